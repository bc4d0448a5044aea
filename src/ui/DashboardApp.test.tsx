import { render } from "ink-testing-library";
import { describe, expect, it } from "vitest";
import { fakeStatus } from "../../test/support/status-fixture.js";
import type { ContainerAction, DashboardActions } from "../state/cluster-actions.js";
import { StatusPoller } from "../state/status-poller.js";
import { DashboardApp } from "./DashboardApp.js";

const DOWN_ARROW = "\u001B[B";
const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

async function mounted() {
  const calls: string[] = [];
  const poller = new StatusPoller({
    snapshot: async () => fakeStatus(["standby", "active", "standby"]),
    intervalMs: 1000,
  });
  await poller.pollOnce();
  const actions: DashboardActions = {
    stepDown: async () => {
      calls.push("step-down");
      return "stepped down";
    },
    container: async (node: string, action: ContainerAction) => {
      calls.push(`${action} ${node}`);
      return `${action} done`;
    },
    seal: async (node: string) => {
      calls.push(`seal ${node}`);
      return "sealed";
    },
    unsealAll: async () => {
      calls.push("unseal all");
      throw new Error("no keys stored\nsecond line");
    },
  };
  const app = render(<DashboardApp poller={poller} actions={actions} color={false} />);
  await tick();
  const press = async (keys: string) => {
    app.stdin.write(keys);
    await tick();
  };
  return { app, poller, calls, press };
}

describe("DashboardApp keys", () => {
  it("j/k and the arrows move the selection; x, t, K and S act on the selected node", async () => {
    const { app, calls, press } = await mounted();
    expect(app.lastFrame()).toContain("› vault-1 ");
    await press("j");
    await press("x");
    await press(DOWN_ARROW);
    await press("t");
    await press("j"); // already the last row
    await press("K");
    await press("k");
    await press("S");
    expect(calls).toEqual(["stop vault-2", "start vault-3", "kill vault-3", "seal vault-2"]);
    expect(app.lastFrame()).toContain("› vault-2 ");
    app.unmount();
  });

  it("actions land in the event log, failures with their first line only", async () => {
    const { app, poller, calls, press } = await mounted();
    await press("s");
    await press("u");
    expect(calls).toEqual(["step-down", "unseal all"]);
    const messages = poller.state.events.map((event) => event.message);
    expect(messages).toContain("stepped down");
    expect(messages).toContain("unseal all failed: no keys stored");
    expect(app.lastFrame()).toContain("unseal all failed: no keys stored");
    app.unmount();
  });

  it.each([
    ["q", "q"],
    ["Ctrl-C", "\u0003"],
  ])("%s quits: the app unmounts and stops listening to the poller", async (_, key) => {
    const { poller, calls, press } = await mounted();
    expect(poller.listenerCount("change")).toBe(1);
    await press(key);
    expect(poller.listenerCount("change")).toBe(0);
    await press("x");
    expect(calls).toEqual([]);
  });
});
