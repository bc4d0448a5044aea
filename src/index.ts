export type { Config, ConfigInput } from "./core/config-schema.js";
export { configSchema } from "./core/config-schema.js";
export { ExitCode, VaultHaError } from "./core/errors.js";
export { renderCompose } from "./core/render-compose.js";
