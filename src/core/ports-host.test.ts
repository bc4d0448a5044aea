import { describe, expect, it } from "vitest";
import type { EngineEndpoint } from "./engine-endpoint.js";
import { hostUrl, isLoopback, type LocalFacts, placePorts } from "./ports-host.js";

const endpoint = (host: string): EngineEndpoint => ({
  host,
  tls: false,
  tlsVerify: false,
  certPath: undefined,
  source: "DOCKER_HOST",
  context: undefined,
});
const LAPTOP: LocalFacts = {
  inContainer: false,
  socketMountedIn: false,
  defaultGateway: undefined,
};
const JOB: LocalFacts = { inContainer: true, socketMountedIn: true, defaultGateway: "172.18.0.1" };
const SOCKET = endpoint("unix:///var/run/docker.sock");

describe("placePorts: where published ports are bound and reached", () => {
  it("a local engine: loopback for both", () => {
    expect(placePorts(SOCKET, {}, "auto", LAPTOP)).toEqual({
      connectHost: "127.0.0.1",
      bindAddress: "127.0.0.1",
      reason: "a local engine",
    });
  });

  it("GitLab's dind: the host of DOCKER_HOST, published on every interface of that engine", () => {
    expect(placePorts(endpoint("tcp://docker:2375"), {}, "auto", LAPTOP)).toEqual({
      connectHost: "docker",
      bindAddress: "0.0.0.0",
      reason: "the host of the engine's URL (tcp://docker:2375)",
    });
    expect(placePorts(endpoint("ssh://ci@build-host"), {}, "auto", LAPTOP).connectHost).toBe(
      "build-host",
    );
  });

  it("a tcp:// engine on this machine stays on loopback", () => {
    expect(placePorts(endpoint("tcp://127.0.0.1:2375"), {}, "auto", LAPTOP)).toMatchObject({
      connectHost: "127.0.0.1",
      bindAddress: "127.0.0.1",
    });
    expect(placePorts(endpoint("tcp://localhost:2375"), {}, "auto", LAPTOP).connectHost).toBe(
      "127.0.0.1",
    );
  });

  it("a job container with the host's socket: the default gateway, every interface", () => {
    expect(placePorts(SOCKET, {}, "auto", JOB)).toMatchObject({
      connectHost: "172.18.0.1",
      bindAddress: "0.0.0.0",
    });
    expect(placePorts(SOCKET, {}, "auto", { ...JOB, defaultGateway: undefined }).reason).toMatch(
      /set VAULT_HA_HOST/,
    );
  });

  it("in a container whose engine runs beside it (no mounted socket): loopback", () => {
    expect(
      placePorts(SOCKET, {}, "auto", {
        inContainer: true,
        socketMountedIn: false,
        defaultGateway: "10.0.0.1",
      }),
    ).toMatchObject({ connectHost: "127.0.0.1", bindAddress: "127.0.0.1" });
  });

  it("VAULT_HA_HOST wins over everything; bindAddress in the configuration wins over auto", () => {
    expect(
      placePorts(endpoint("tcp://docker:2375"), { VAULT_HA_HOST: "10.1.2.3" }, "auto", JOB),
    ).toEqual({
      connectHost: "10.1.2.3",
      bindAddress: "0.0.0.0",
      reason: "VAULT_HA_HOST",
    });
    expect(placePorts(SOCKET, { VAULT_HA_HOST: "localhost" }, "auto", LAPTOP).bindAddress).toBe(
      "127.0.0.1",
    );
    expect(placePorts(endpoint("tcp://docker:2375"), {}, "10.0.0.7", LAPTOP).bindAddress).toBe(
      "10.0.0.7",
    );
  });
});

describe("hostUrl and isLoopback", () => {
  it("brackets IPv6 literals", () => {
    expect(hostUrl("127.0.0.1", 8200)).toBe("http://127.0.0.1:8200");
    expect(hostUrl("::1", 8200)).toBe("http://[::1]:8200");
    expect(hostUrl("docker", 8000, "https")).toBe("https://docker:8000");
  });

  it("knows loopback names", () => {
    expect(["localhost", "127.0.0.1", "127.5.0.9", "::1"].every(isLoopback)).toBe(true);
    expect(["0.0.0.0", "docker", "10.0.0.1", "128.0.0.1"].some(isLoopback)).toBe(false);
  });
});
