import { fileURLToPath } from "node:url";

/**
 * The installed package's root (holding templates/, docker/, certs/), found
 * from this module's own location so it works from src/ and dist/ alike.
 */
export const PACKAGE_ROOT = fileURLToPath(new URL("..", import.meta.url));
export const packagePath = (...parts: string[]): string =>
  fileURLToPath(new URL(`../${parts.join("/")}`, import.meta.url));
