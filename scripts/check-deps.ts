// The dependency rule, checked in CI (`pnpm check:deps`, a step of scripts/test.sh):
//   1. a library in packages/ never imports a service (anything under services/), declared or not;
//   2. each workspace package declares exactly what it imports: every bare import of its code is in
//      `dependencies` (tests may also use `devDependencies` and the root's), and every dependency is
//      imported somewhere; no relative import leaves the package's directory;
//   3. no cycles, neither between packages nor between the modules of one package.
// Imports are read with TypeScript's own pre-processor (import/export-from/dynamic import/require), so
// the check sees exactly what the compiler resolves. Exit code 1 with one line per violation.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import ts from "typescript";

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), "..");
const SOURCE = /\.(ts|mts|tsx)$/;
const BUILTINS = new Set(builtinModules);

interface Workspace {
  name: string;
  dir: string;
  isService: boolean;
  deps: Set<string>;
  devDeps: Set<string>;
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
}

function keys(obj: unknown): Set<string> {
  return new Set(Object.keys((obj as Record<string, string> | undefined) ?? {}));
}

function workspaces(): Workspace[] {
  const out: Workspace[] = [];
  for (const group of ["packages", "services"]) {
    for (const entry of readdirSync(join(ROOT, group))) {
      const dir = join(ROOT, group, entry);
      const manifest = join(dir, "package.json");
      if (!statSync(dir).isDirectory() || !safeExists(manifest)) continue;
      const pkg = readJson(manifest);
      out.push({
        name: String(pkg.name),
        dir,
        isService: group === "services",
        deps: keys(pkg.dependencies),
        devDeps: keys(pkg.devDependencies),
      });
    }
  }
  return out;
}

function safeExists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (SOURCE.test(entry.name) && !entry.name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
  return info.importedFiles.map((f) => f.fileName);
}

/** Specifiers this file imports for values (type-only imports are erased, so they cannot form a cycle). */
function valueImportsOf(file: string): Set<string> {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest);
  const out = new Set<string>();
  for (const s of source.statements) {
    if (ts.isImportDeclaration(s) && ts.isStringLiteral(s.moduleSpecifier)) {
      const clause = s.importClause;
      const named = clause?.namedBindings;
      const onlyTypes =
        clause?.isTypeOnly ||
        (clause &&
          !clause.name &&
          named &&
          ts.isNamedImports(named) &&
          named.elements.every((e) => e.isTypeOnly));
      if (!onlyTypes) out.add(s.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(s) && s.moduleSpecifier && ts.isStringLiteral(s.moduleSpecifier)) {
      if (!s.isTypeOnly) out.add(s.moduleSpecifier.text);
    }
  }
  return out;
}

/** `@scope/name/sub` → `@scope/name`; `pkg/sub` → `pkg`; undefined for relative, builtin or absolute. */
function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith(".") || specifier.startsWith("/")) return undefined;
  if (specifier.startsWith("node:") || BUILTINS.has(specifier.split("/")[0]!)) return undefined;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0];
}

const isTestFile = (file: string) => /\.test\.ts$|[\\/]testing[\\/]|test-support\.ts$/.test(file);

/** Resolves a relative import of `from` to a source file, or undefined when it is not one of ours. */
function resolveRelative(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier);
  const candidates = [base, base.replace(/\.js$/, ".ts"), `${base}.ts`, join(base, "index.ts")];
  return candidates.find((c) => SOURCE.test(c) && safeExists(c));
}

function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") return [...stack.slice(stack.indexOf(next)), next];
      if (!state.has(next)) {
        const found = visit(next);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(node, "done");
    return undefined;
  };
  for (const node of graph.keys()) {
    if (!state.has(node)) {
      const found = visit(node);
      if (found) return found;
    }
  }
  return undefined;
}

function check(): string[] {
  const problems: string[] = [];
  const all = workspaces();
  const byName = new Map(all.map((w) => [w.name, w]));
  const rootDevDeps = keys(readJson(join(ROOT, "package.json")).devDependencies);
  const packageGraph = new Map<string, Set<string>>();

  for (const ws of all) {
    const where = relative(ROOT, ws.dir);
    const used = new Set<string>();
    const moduleGraph = new Map<string, Set<string>>();
    for (const file of sourceFiles(ws.dir)) {
      const rel = relative(ROOT, file);
      const test = isTestFile(file);
      const edges = new Set<string>();
      moduleGraph.set(file, edges);
      const valueImports = valueImportsOf(file);
      for (const spec of importsOf(file)) {
        if (spec.startsWith(".")) {
          const target = resolve(dirname(file), spec);
          if (!target.startsWith(ws.dir + sep))
            problems.push(`${rel}: relative import "${spec}" leaves ${where}`);
          const resolved = resolveRelative(file, spec);
          if (resolved && !test && valueImports.has(spec)) edges.add(resolved);
          continue;
        }
        const name = packageOf(spec);
        if (name === undefined || name === ws.name) continue;
        const target = byName.get(name);
        if (!ws.isService && target?.isService) problems.push(`${rel}: library imports service ${name}`);
        if (!test) used.add(name);
        const declared = ws.deps.has(name) || (test && (ws.devDeps.has(name) || rootDevDeps.has(name)));
        if (!declared) problems.push(`${rel}: imports ${name}, not declared in ${where}/package.json`);
        if (test && ws.devDeps.has(name)) used.add(name);
      }
    }
    for (const dep of ws.deps) {
      if (!used.has(dep)) problems.push(`${where}/package.json: dependency ${dep} is never imported`);
    }
    for (const dep of ws.devDeps) {
      if (!used.has(dep)) problems.push(`${where}/package.json: devDependency ${dep} is never imported`);
    }
    for (const dep of ws.deps) {
      const target = byName.get(dep);
      if (target && !ws.isService && target.isService) problems.push(`${where} depends on service ${dep}`);
    }
    packageGraph.set(ws.name, new Set([...ws.deps].filter((d) => byName.has(d))));
    const cycle = findCycle(moduleGraph);
    if (cycle)
      problems.push(`module cycle in ${where}: ${cycle.map((f) => relative(ws.dir, f)).join(" → ")}`);
  }
  const cycle = findCycle(packageGraph);
  if (cycle) problems.push(`package cycle: ${cycle.join(" → ")}`);

  // The root's own code (test/, bench/, scripts/) imports only what the root declares.
  for (const dir of ["test", "bench", "scripts"]) {
    for (const file of sourceFiles(join(ROOT, dir))) {
      for (const spec of importsOf(file)) {
        const name = packageOf(spec);
        if (name !== undefined && !rootDevDeps.has(name)) {
          problems.push(`${relative(ROOT, file)}: imports ${name}, not declared in package.json`);
        }
      }
    }
  }
  return problems;
}

const problems = check();
for (const p of problems) console.log(p);
console.log(
  problems.length === 0
    ? "check-deps: packages never import services, declared = imported, no cycles"
    : `check-deps: ${problems.length} problem(s)`,
);
process.exit(problems.length === 0 ? 0 : 1);
