import type { ClusterService } from "../services/cluster.js";

/**
 * Runs the live dashboard on this terminal until the user quits. Shared by
 * `dashboard` and `up --watch`; ink and React load only here.
 */
export async function runDashboard(
  cluster: ClusterService,
  intervalMs: number,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const [{ render }, { createElement }, { StatusPoller }, { clusterActions }, { DashboardApp }] =
    await Promise.all([
      import("ink"),
      import("react"),
      import("../state/status-poller.js"),
      import("../state/cluster-actions.js"),
      import("./DashboardApp.js"),
    ]);
  const poller = new StatusPoller({ snapshot: () => cluster.snapshot(), intervalMs });
  // Node's rule, as for the rest of our output: NO_COLOR off, FORCE_COLOR on.
  // chalk (under ink) reads FORCE_COLOR but not NO_COLOR, so the view is told.
  const color = process.stdout.hasColors?.(env) === true;
  poller.start();
  // The terminal check is the command's; ink would otherwise take CI=true for
  // "not interactive" and draw nothing until exit. The alternate screen hands
  // the terminal back as it was. Ctrl-C is a key like q (raw mode), so the
  // app has one exit point.
  const app = render(
    createElement(DashboardApp, { poller, actions: clusterActions(cluster), color }),
    {
      stdout: homeOnAlternateScreen(process.stdout),
      exitOnCtrlC: false,
      interactive: true,
      alternateScreen: true,
    },
  );
  try {
    await app.waitUntilExit();
  } finally {
    poller.stop();
  }
}

const ENTER_ALTERNATE_SCREEN = "\u001B[?1049h";
const CURSOR_HOME = "\u001B[H";

/**
 * Switching to the alternate screen keeps the cursor where the shell left it,
 * and ink draws from there: the dashboard would start part-way down and a
 * full-height frame would push its title off the top. The cursor goes home
 * right after the switch; the switch itself saved the shell's position, which
 * leaving the alternate screen restores.
 */
function homeOnAlternateScreen(stdout: NodeJS.WriteStream): NodeJS.WriteStream {
  const write = (chunk: unknown, ...rest: unknown[]) =>
    (stdout.write as (...args: unknown[]) => boolean)(
      typeof chunk === "string"
        ? chunk.replace(ENTER_ALTERNATE_SCREEN, ENTER_ALTERNATE_SCREEN + CURSOR_HOME)
        : chunk,
      ...rest,
    );
  return new Proxy(stdout, {
    get(target, property) {
      if (property === "write") return write;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
