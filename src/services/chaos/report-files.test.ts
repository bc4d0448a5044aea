import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { fakeReport } from "../../../test/support/chaos-report-fixture.js";
import { withTempDir } from "../../../test/support/cli.js";
import { writeReportFiles } from "./report-files.js";

describe("writeReportFiles", () => {
  it("writes report.md, report.json and an SVG timeline drawn by Vega-Lite", async () => {
    await withTempDir(async (dir) => {
      const report = fakeReport();
      const out = path.join(dir, "nested", "report");
      const written = await writeReportFiles(out, report, [
        { t: 900, active: ["vault-1"] },
        { t: 1500, active: [] },
        { t: 16_000, active: ["vault-2"] },
      ]);
      expect(written.map((file) => path.basename(file))).toEqual([
        "report.md",
        "report.json",
        "timeline.svg",
      ]);
      expect(JSON.parse(await readFile(path.join(out, "report.json"), "utf8"))).toEqual(report);
      expect(await readFile(path.join(out, "report.md"), "utf8")).toMatch(
        /^# vault-ha chaos: demo/,
      );
      const svg = await readFile(path.join(out, "timeline.svg"), "utf8");
      expect(svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      expect(svg.trimEnd()).toMatch(/<\/svg>$/);
      expect(svg).toContain('aria-roledescription="tick"');
      expect(svg).toContain("mark-rule");
      expect(svg).toContain("kill #1 (vault-1)");
    });
  });
});
