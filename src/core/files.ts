/** The Compose file `render` and `up` write in the working folder, unless told otherwise. */
export const DEFAULT_COMPOSE_FILE = "compose.generated.yml";
