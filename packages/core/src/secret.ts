// Secrets (passwords, tokens) travel in a wrapper that prints as "[secret]" in logs, JSON and
// util.inspect, so a config object logged whole or an error carrying it never leaks the value.
import { readFileSync } from "node:fs";
import { InvalidInputError } from "./errors.js";

const REDACTED = "[secret]";

export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The value itself: only for the client that needs it (driver option, header comparison). */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return REDACTED;
  }
}

export type ReadSecretFile = (path: string) => string;

const readUtf8: ReadSecretFile = (path) => readFileSync(path, "utf8");

/**
 * `<NAME>` or `<NAME>_FILE` (a path whose content is the secret, trailing newline dropped — the Docker and
 * Kubernetes secrets convention); undefined when neither is set, InvalidInputError when both are.
 */
export function secretFromEnv(
  env: NodeJS.ProcessEnv,
  name: string,
  read: ReadSecretFile = readUtf8,
): Secret | undefined {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (direct !== undefined && file !== undefined)
    throw new InvalidInputError(`set ${name} or ${name}_FILE, not both`, { field: name });
  if (file !== undefined) {
    let text: string;
    try {
      text = read(file);
    } catch (err) {
      throw new InvalidInputError(
        `${name}_FILE cannot be read: ${(err as NodeJS.ErrnoException).code ?? "error"}`,
        {
          field: `${name}_FILE`,
        },
      );
    }
    return nonEmpty(name, text.replace(/\r?\n$/, ""));
  }
  return direct === undefined ? undefined : nonEmpty(name, direct);
}

function nonEmpty(name: string, value: string): Secret {
  if (value.length === 0) throw new InvalidInputError(`${name} is empty`, { field: name });
  return new Secret(value);
}
