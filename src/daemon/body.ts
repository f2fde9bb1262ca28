// Request bodies: one JSON object, bounded in size. A refused body is still read to its end, so the
// client gets the answer instead of a reset connection.
import type { IncomingMessage } from "node:http";
import { BadInput, FarmError } from "../api/errors.js";

export const MAX_BODY = 64 * 1024;

/** Each request's body once read: its audit line names the target it gives. */
const bodies = new WeakMap<IncomingMessage, Record<string, unknown>>();
export const bodyOf = (req: IncomingMessage) => bodies.get(req);

/** Keys that would reach an object's prototype if any code ever merged the body into an object. */
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

const SEND_JSON =
  'send one JSON object with Content-Type: application/json, like {"request": {...}}';

export async function readJsonBody(
  req: IncomingMessage,
  max = MAX_BODY,
): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= max) chunks.push(chunk);
  }
  if (size > max)
    throw new FarmError(
      "too_large",
      `request body is ${size} bytes, more than farmd's limit of ${max}`,
      65,
      "farmd's requests are small JSON objects: send only the fields of the request",
    );
  if (size === 0) return {};
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json")
    throw new FarmError(
      "unsupported_media_type",
      `request body has Content-Type '${type || "(none)"}', not application/json`,
      65,
      SEND_JSON,
    );
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (err) {
    throw new FarmError(
      "bad_json",
      `request body is not valid JSON: ${(err as Error).message}`,
      65,
      SEND_JSON,
    );
  }
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new FarmError(
      "bad_json",
      `request body is ${body === null ? "null" : Array.isArray(body) ? "an array" : `a ${typeof body}`}, not a JSON object`,
      65,
      SEND_JSON,
    );
  refuseForbiddenKeys(body, "");
  bodies.set(req, body as Record<string, unknown>);
  return body as Record<string, unknown>;
}

function refuseForbiddenKeys(value: unknown, path: string): void {
  if (typeof value !== "object" || value === null) return;
  for (const key of Object.keys(value)) {
    const field = path ? `${path}.${key}` : key;
    if (FORBIDDEN_KEYS.has(key))
      throw new BadInput(
        `field '${field}' is not allowed: '${key}' is never a field of farmd's requests`,
        "remove it; farmd(8) lists the fields of each request",
        { field },
      );
    refuseForbiddenKeys((value as Record<string, unknown>)[key], field);
  }
}
