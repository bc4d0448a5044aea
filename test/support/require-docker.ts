import { execa } from "execa";

/**
 * The end-to-end tier needs a Docker engine with Compose v2. Missing Docker is
 * a failure, never a skip: run `npm run test:unit` for the unit tier alone, or
 * `npm run testbed` to provision Docker and the images here.
 */
export async function setup(): Promise<void> {
  const engine = await execa("docker", ["info", "--format", "{{.ServerVersion}}"], {
    reject: false,
  });
  if (engine.exitCode !== 0) {
    throw new Error(
      `end-to-end tests need a running Docker engine (docker info: ${engine.stderr.split("\n")[0]}); run them through npm test or npm run test:e2e, which start the test bed's engine`,
    );
  }
  const compose = await execa("docker", ["compose", "version", "--short"], { reject: false });
  if (compose.exitCode !== 0) {
    throw new Error(
      "end-to-end tests need Docker Compose v2 (docker compose version failed); run npm run testbed",
    );
  }
}
