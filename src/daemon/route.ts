// A route of farmd's API: the role it needs at least (checked before its body is read) and its handler.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Identity, Role } from "../api/auth.js";
import type { Operations } from "./operations.js";

export interface Call {
  ops: Operations;
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** The path's parameters, percent-decoded. */
  params: string[];
  /** Who asks, as farmd verified it (certificate or socket peer). */
  identity: Identity;
}

export interface Route {
  method: "GET" | "POST";
  path: RegExp;
  /** The least role that may call it; a handler checks ownership and limits on top. */
  role: Role;
  handle(call: Call): Promise<void> | void;
}

export type Send = (res: ServerResponse, status: number, body: unknown) => void;

export const exact = (path: string): RegExp => new RegExp(`^${path.replace(/\//g, "\\/")}$`);

/** How a connection's identity is found: the unix socket's peer, or a verified certificate.
 *  `need`: the route's least role (a GET any caller may make asks nobody who it is). */
export type Identify = (req: IncomingMessage, need?: Role) => Promise<Identity>;
