import { describe, expect, it } from "vitest";
import { modemFor } from "./connect-engine.js";
import { defaultGateway, localFacts } from "./engine-location.js";

describe("defaultGateway", () => {
  it("reads the default route's little-endian gateway from /proc/net/route", () => {
    const routes = [
      "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT",
      "eth0\t000012AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0",
      "eth0\t00000000\t010012AC\t0003\t0\t0\t0\t00000000\t0\t0\t0",
    ].join("\n");
    expect(defaultGateway(routes)).toBe("172.18.0.1");
  });

  it("is undefined without a default route", () => {
    expect(defaultGateway("Iface\tDestination\tGateway\n")).toBeUndefined();
    expect(defaultGateway(undefined)).toBeUndefined();
  });
});

describe("localFacts", () => {
  it("a socket that is not a mount point is the engine's own, even in a container", () => {
    const facts = localFacts({
      host: "unix:///definitely/not/here.sock",
      tls: false,
      tlsVerify: false,
      certPath: undefined,
      source: "default",
      context: undefined,
    });
    expect(facts.socketMountedIn).toBe(false);
  });
});

describe("modemFor: docker-modem built from the endpoint alone", () => {
  const base = {
    tlsVerify: false,
    certPath: undefined,
    source: "DOCKER_HOST",
    context: undefined,
  } as const;

  it("dials a unix socket by path", () => {
    const modem = modemFor({
      ...base,
      host: "unix:///run/podman/podman.sock",
      tls: false,
    }) as unknown as {
      socketPath: string;
      host?: string;
    };
    expect(modem.socketPath).toBe("/run/podman/podman.sock");
    expect(modem.host).toBeUndefined();
  });

  it("uses plain http on 2376 when TLS is off, where docker-modem alone would guess https", () => {
    const modem = modemFor({ ...base, host: "tcp://docker:2376", tls: false }) as unknown as {
      protocol: string;
      host: string;
      port: string;
    };
    expect(modem).toMatchObject({ protocol: "http", host: "docker", port: "2376" });
  });

  it("uses https whenever TLS is on, whatever the port", () => {
    const modem = modemFor({ ...base, host: "tcp://docker:2375", tls: true }) as unknown as {
      protocol: string;
    };
    expect(modem.protocol).toBe("https");
  });
});
