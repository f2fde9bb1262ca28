// nginx sites: one file per VM in sites-available, its server block inside a "# farmctl" block so
// farmctl can tell its own sites from hand-written ones; server_name lookup covers both.
import { BadInput } from "../../api/errors.js";
import type { Templates } from "../templates.js";
import { addBlock, findBlock, removeBlock, type Block } from "./blocks.js";
import { statements, tokenize } from "./conf-tokens.js";
import { checkEntry, type VmEntry, hostContext } from "./entry.js";

export const COMMENT = "#";
export const TEMPLATE = "nginx-site.njk";

export interface SiteOptions {
  /** Directory of the access log; default /var/log/nginx as in the seed. */
  logDir?: string;
  /** `listen` argument: "80" (default) or "127.0.0.1:8080". */
  listen?: string;
}

const PATH = /^\/[A-Za-z0-9._/-]*$/;
const LISTEN = /^(?:(?:\d{1,3}\.){3}\d{1,3}:)?\d{1,5}$/;

function needWeb(entry: VmEntry): string {
  checkEntry(entry, ["fqdn"]);
  if (entry.webName === undefined) {
    throw new BadInput(`${entry.fqdn} has no web name`, "give the VM a web name to proxy it");
  }
  checkEntry(entry, ["webName"]);
  return entry.webName;
}

export function render(
  templates: Pick<Templates, "render">,
  entry: VmEntry,
  opts: SiteOptions = {},
): string {
  needWeb(entry);
  const { logDir = "/var/log/nginx", listen = "80" } = opts;
  if (!PATH.test(logDir) || logDir.includes("..")) throw new BadInput(`invalid log dir ${logDir}`);
  if (!LISTEN.test(listen)) throw new BadInput(`invalid listen address ${listen}`);
  return templates.render(TEMPLATE, {
    ...hostContext(entry),
    logDir: logDir.replace(/\/+$/, ""),
    listen,
  });
}

/** sites-available/<webName>, as the seed names them. */
export function siteFileName(entry: VmEntry): string {
  return needWeb(entry);
}

/** The whole site file is usually just this block: addEntry("", ...). */
export function addEntry(text: string, entry: VmEntry, rendered: string): string {
  needWeb(entry);
  return addBlock(text, COMMENT, entry.fqdn, rendered);
}

export function removeEntry(text: string, fqdn: string): string {
  return removeBlock(text, COMMENT, fqdn);
}

export function findEntry(text: string, fqdn: string): Block | undefined {
  return findBlock(text, COMMENT, fqdn);
}

/** Every server_name of a site file (lowercase), farmctl's or hand-written; "_" is not a name. */
export function serverNames(text: string): string[] {
  const names = statements(tokenize(text, "{};"), ["server_name"])
    .flat()
    .filter((n) => n !== "_" && n !== "")
    .map((n) => n.toLowerCase());
  return [...new Set(names)];
}
