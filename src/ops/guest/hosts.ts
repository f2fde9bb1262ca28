// /etc/hosts as Debian writes it: the 127.0.1.1 line names the machine (FQDN first, then the short
// name); every other line is kept byte for byte.

export const hostsLine = (fqdn: string, name: string) => `127.0.1.1\t${fqdn} ${name}`;

/** The first field of a line that is not a comment, or null. */
function address(line: string): string | null {
  const m = /^\s*([^\s#]+)/.exec(line);
  return m ? m[1]! : null;
}

/** `hosts` with each 127.0.1.1 line replaced, or one added after 127.0.0.1 (first when absent). */
export function setHostname(hosts: string | null, fqdn: string, name: string): string {
  const line = hostsLine(fqdn, name);
  if (hosts === null || hosts === "") return `127.0.0.1\tlocalhost\n${line}\n`;
  const lines = hosts.split("\n");
  let replaced = false;
  const out = lines.map((l) => {
    if (address(l) !== "127.0.1.1") return l;
    replaced = true;
    return line;
  });
  if (!replaced) out.splice(out.findIndex((l) => address(l) === "127.0.0.1") + 1, 0, line);
  return out.join("\n");
}
