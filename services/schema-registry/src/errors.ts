// Errors of the registry in Confluent's shape: an HTTP status plus a numeric error_code the clients know.

export class RegistryError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
    this.name = "RegistryError";
  }

  toJSON(): { error_code: number; message: string } {
    return { error_code: this.errorCode, message: this.message };
  }
}

export const subjectNotFound = (subject: string) =>
  new RegistryError(404, 40401, `Subject '${subject}' not found.`);
export const versionNotFound = (subject: string, version: string | number) =>
  new RegistryError(404, 40402, `Version ${version} not found for subject '${subject}'.`);
export const schemaNotFound = (what: string) => new RegistryError(404, 40403, `Schema ${what} not found`);
export const subjectConfigNotFound = (subject: string) =>
  new RegistryError(404, 40408, `Subject '${subject}' does not have subject-level compatibility configured`);
export const invalidSchema = (reason: string) => new RegistryError(422, 42201, `Invalid schema: ${reason}`);
export const invalidVersion = (version: string) =>
  new RegistryError(422, 42202, `The specified version '${version}' is not a valid version id.`);
export const invalidCompatibilityLevel = (level: string) =>
  new RegistryError(422, 42203, `Invalid compatibility level '${level}'.`);
export const unprocessable = (reason: string) => new RegistryError(422, 422, reason);
export const incompatibleSchema = (reason: string) =>
  new RegistryError(
    409,
    409,
    `Schema being registered is incompatible with an earlier schema for subject: ${reason}`,
  );
/** The Kafka log is unreachable or slow: temporary, so 503 (with Retry-After), Confluent's code 50001. */
export const storeError = (reason: string) =>
  new RegistryError(503, 50001, `Error in the backend data store: ${reason}`);
export const routeNotFound = (path: string) => new RegistryError(404, 404, `HTTP 404 Not Found: ${path}`);
