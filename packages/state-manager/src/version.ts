/** Server version, reported by /openapi.json. Kept in step with package.json. */
export const VERSION = "0.1.0";
