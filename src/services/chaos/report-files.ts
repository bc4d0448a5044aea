import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { ObserverSample } from "../../core/chaos-model.js";
import { type ChaosReport, renderMarkdown, timelineSpec } from "../../core/chaos-report.js";

/**
 * The timeline as SVG, drawn by Vega-Lite and Vega without a canvas
 * (renderer "none"). Imported here, on the first --report only: the two
 * libraries would cost every other command's start.
 */
export async function timelineSvg(report: ChaosReport, samples: readonly ObserverSample[]) {
  const [vega, vegaLite] = await Promise.all([import("vega"), import("vega-lite")]);
  const compiled = vegaLite.compile(
    timelineSpec(report, samples) as unknown as Parameters<typeof vegaLite.compile>[0],
  ).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Writes report.md, report.json and timeline.svg into `dir` (made when missing); returns their paths. */
export async function writeReportFiles(
  dir: string,
  report: ChaosReport,
  samples: readonly ObserverSample[],
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files = {
    "report.md": renderMarkdown(report),
    "report.json": `${JSON.stringify(report, null, 2)}\n`,
    "timeline.svg": await timelineSvg(report, samples),
  };
  const written: string[] = [];
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(dir, name);
    await writeFile(file, text);
    written.push(file);
  }
  return written;
}
