import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

/**
 * Where terminal code may live. ink, React and the progress renderer belong
 * to the command line (cli.ts, commands/, ui/); the library half (services,
 * state, core, adapters, api, index.ts) must work without a terminal.
 */

const SRC = path.dirname(fileURLToPath(import.meta.url));

const TERMINAL_SIDE = (file: string) =>
  file === "cli.ts" || file.startsWith("commands/") || file.startsWith("ui/");

/** Every source file under src/, tests left out, as a path relative to src/. */
function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return /\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name)
      ? [path.relative(SRC, full).split(path.sep).join("/")]
      : [];
  });
}

interface ImportEdge {
  readonly specifier: string;
  /** `import type` / `export type`: erased from the emitted JavaScript. */
  readonly typeOnly: boolean;
  readonly dynamic: boolean;
}

/** The module specifiers a file imports: static, re-exported and import(). */
function importsOf(file: string): ImportEdge[] {
  const source = ts.createSourceFile(
    file,
    readFileSync(path.join(SRC, file), "utf8"),
    ts.ScriptTarget.Latest,
    true,
  );
  const edges: ImportEdge[] = [];
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      const typeOnly = ts.isImportDeclaration(node)
        ? node.importClause?.isTypeOnly === true
        : node.isTypeOnly;
      edges.push({ specifier: node.moduleSpecifier.text, typeOnly, dynamic: false });
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      edges.push({ specifier: node.arguments[0].text, typeOnly: false, dynamic: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

/** A relative specifier as a path under src/ ("./x.js" is x.ts or x.tsx); bare ones as given. */
function resolve(from: string, specifier: string): string {
  if (!specifier.startsWith(".")) return specifier;
  const target = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  const base = target.replace(/\.js$/, "");
  for (const candidate of [`${base}.ts`, `${base}.tsx`, target]) {
    if (existsSync(path.join(SRC, candidate))) return candidate;
  }
  return target;
}

const isUi = (module: string) => module.startsWith("ui/");
const isTerminalPackage = (module: string) => /^(ink|react)(\/|$)/.test(module);

/** Every module a file loads when it is imported: its static, emitted import graph. */
function staticGraph(root: string): Set<string> {
  const seen = new Set<string>();
  const walk = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const edge of importsOf(file)) {
      if (edge.typeOnly || edge.dynamic) continue;
      const target = resolve(file, edge.specifier);
      if (edge.specifier.startsWith(".")) walk(target);
      else seen.add(target);
    }
  };
  walk(root);
  return seen;
}

/**
 * What each hot command must not load up front (measured, see the modules'
 * comments): execa only when Compose runs, node-vault only for calls that
 * change Vault, dockerode (and its gRPC stack) not at all, ink and React only
 * for the dashboard, yaml only when a file is read or rendered.
 */
const HEAVY_LATER = ["execa", "node-vault", "dockerode", "@grpc/", "ink", "react"];
const LOADED_LATER: Record<string, readonly string[]> = {
  "cli.ts": [...HEAVY_LATER, "yaml", "zod", "docker-modem", "@aws-sdk/"],
  "config/load-config.ts": [...HEAVY_LATER, "yaml"],
  "commands/status.ts": HEAVY_LATER,
  "commands/up.ts": HEAVY_LATER,
  "commands/env.ts": HEAVY_LATER,
  "commands/wait.ts": HEAVY_LATER,
  "services/create-cluster.ts": [...HEAVY_LATER, "@aws-sdk/"],
};

describe("architecture", () => {
  it("finds the source files", () => {
    const files = sourceFiles();
    expect(files).toContain("index.ts");
    expect(files).toContain("ui/DashboardApp.tsx");
  });

  it("only cli.ts, commands/ and ui/ import from ui/", () => {
    const offenders = sourceFiles()
      .filter((file) => !TERMINAL_SIDE(file))
      .flatMap((file) =>
        importsOf(file)
          .filter((edge) => isUi(resolve(file, edge.specifier)))
          .map((edge) => `${file} imports ${edge.specifier}`),
      );
    expect(offenders).toEqual([]);
  });

  it("the package entry (index.ts) pulls in no terminal code", () => {
    // The static, emitted import graph: what `import "vault-ha"` loads.
    const seen = new Set<string>();
    const offenders: string[] = [];
    const walk = (file: string, via: readonly string[]) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const edge of importsOf(file)) {
        if (edge.typeOnly || edge.dynamic) continue;
        const target = resolve(file, edge.specifier);
        const chain = [...via, file, target].join(" → ");
        if (isUi(target) || isTerminalPackage(target) || target.endsWith(".tsx")) {
          offenders.push(chain);
        } else if (edge.specifier.startsWith(".")) walk(target, [...via, file]);
      }
    };
    walk("index.ts", []);
    expect(seen.size).toBeGreaterThan(1);
    expect(offenders).toEqual([]);
  });

  it.each(Object.entries(LOADED_LATER))(
    "%s loads no heavy package before a command needs it",
    (root, later) => {
      const loaded = [...staticGraph(root)].filter(
        (module) => !module.startsWith("node:") && !/\.tsx?$/.test(module),
      );
      expect(loaded.filter((module) => later.some((name) => module.startsWith(name)))).toEqual([]);
    },
  );
});
