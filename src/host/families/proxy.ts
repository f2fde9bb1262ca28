// nginx: a site file per VM in sites-available and its symlink in sites-enabled, checked with
// `nginx -t` in a private copy of the nginx directory before the site is written or linked.
import { dirname, join } from "node:path";
import { AlreadyExists, FarmError } from "../../api/errors.js";
import type { CheckOptions } from "../confedit/checkers.js";
import { checkSiteInCopy } from "../confedit/nginx-check.js";
import type { VmEntry } from "../confedit/entry.js";
import { blockNames } from "../confedit/blocks.js";
import { blockLines, wrapLines, type Inspection } from "./lines.js";
import * as nginx from "../confedit/nginx.js";
import type { Runner } from "../runner.js";
import type { Templates } from "../templates.js";
import { sha, unadoptEdit, type FamilyIo, type Revert } from "./edit.js";

export interface ProxyFamilyOptions extends FamilyIo {
  runner: Runner;
  templates: Templates;
  sitesAvailable: string;
  sitesEnabled: string;
  check: CheckOptions;
  /** A plan: the site's upstream (the new VM's name) is not in the DNS, so nginx cannot check it. */
  dryRun?: boolean;
}

export class ProxyFamily {
  readonly label = "nginx";

  constructor(private readonly o: ProxyFamilyOptions) {}

  get paths(): string[] {
    return [this.o.sitesAvailable, this.o.sitesEnabled];
  }

  private site(entry: VmEntry): { file: string; link: string } {
    const name = nginx.siteFileName(entry);
    return { file: join(this.o.sitesAvailable, name), link: join(this.o.sitesEnabled, name) };
  }

  async has(entry: VmEntry): Promise<boolean> {
    if (!entry.webName) return false;
    const { file, link } = this.site(entry);
    return (await this.o.files.exists(file)) || (await this.o.files.exists(link));
  }

  /** server_names of every site, enabled or not: a VM's web name must be unique. */
  async usage() {
    return { ips: [], macs: [], ports: [], names: [...(await this.sites()).keys()] };
  }

  /** Each name a site takes (its file name) or serves (its server_names) → that site's file. */
  async sites(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const dir of [this.o.sitesAvailable, this.o.sitesEnabled]) {
      for (const f of await this.o.files.list(dir)) {
        const path = join(dir, f);
        const text = await this.readSite(path);
        if (text === undefined) continue;
        for (const name of [f, ...nginx.serverNames(text ?? "")])
          if (!out.has(name)) out.set(name, path);
      }
    }
    return out;
  }

  /** A site file's text; undefined for a directory (nginx's include skips none, but it is no site). */
  private async readSite(path: string): Promise<string | null | undefined> {
    try {
      return await this.o.files.read(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EISDIR") return undefined;
      throw err;
    }
  }

  async add(entry: VmEntry, record: (r: Revert) => void): Promise<void> {
    if (!entry.webName) return;
    const { file, link } = this.site(entry);
    const current = await this.o.files.read(file);
    const content = nginx.addEntry("", entry, nginx.render(this.o.templates, entry));
    if (current !== null && !nginx.findEntry(current, entry.fqdn)) {
      throw new AlreadyExists(
        `nginx site ${file} exists and was not made by farmctl`,
        "give another --web, or --no-web",
      );
    }
    await this.check(entry, current ?? content, true);
    record({
      files: [
        { path: file, before: null, afterSha: sha(content) },
        { path: link, before: null, afterSha: null },
      ],
    });
    if (current === null) await this.o.files.apply([{ path: file, content }]);
    if ((await this.o.files.readlink(link)) === null) await this.o.files.symlink(file, link);
    await this.o.service.reload();
  }

  /** nginx -t on a private copy of the configuration with the site as it will be: nothing live changes. */
  private async check(entry: VmEntry, content: string, enable: boolean): Promise<void> {
    if (this.o.dryRun) return;
    const { file, link } = this.site(entry);
    const site = { confDir: dirname(this.o.sitesEnabled), file, link, content, enable };
    return checkSiteInCopy(this.o.runner, site, this.o.check);
  }

  private async unlink(entry: VmEntry): Promise<boolean> {
    const { file, link } = this.site(entry);
    const text = await this.o.files.read(file);
    if (text !== null && !nginx.findEntry(text, entry.fqdn)) {
      throw new FarmError(
        "not_owned",
        `nginx site ${file} was not made by farmctl; leaving it`,
        1,
        "remove it by hand if it is stale",
      );
    }
    const target = await this.o.files.readlink(link);
    let changed = false;
    if (target === file) {
      await this.o.files.unlink(link);
      changed = true;
    }
    if (text !== null) {
      await this.o.files.apply([{ path: file, content: null }]);
      changed = true;
    }
    return changed;
  }

  /** Takes the site out; `record` gets its content first, so the removal can be undone exactly. */
  async remove(entry: VmEntry, record: (r: Revert) => void = () => {}): Promise<void> {
    if (!entry.webName) return;
    const { file, link } = this.site(entry);
    const text = await this.o.files.read(file);
    if (text !== null) record({ files: [{ path: file, before: text, afterSha: null }] });
    if (await this.unlink(entry)) await this.o.service.reload();
  }

  revert(entry: VmEntry, _data: Revert | undefined): Promise<void> {
    return this.remove(entry);
  }

  /** Undoes remove: the site's previous bytes (or the template's) and its symlink, checked, reloaded. */
  async restore(entry: VmEntry, data: Revert | undefined): Promise<void> {
    if (!entry.webName) return;
    const { file, link } = this.site(entry);
    const before = data?.files.find((f) => f.path === file)?.before;
    const content = before ?? nginx.addEntry("", entry, nginx.render(this.o.templates, entry));
    const current = await this.o.files.read(file);
    await this.check(entry, current ?? content, true);
    if (current === null) await this.o.files.apply([{ path: file, content }]);
    if ((await this.o.files.readlink(link)) === null) await this.o.files.symlink(file, link);
    await this.o.service.reload();
  }

  /** A site file per VM: each entry's own files, read once each. */
  async inspectAll(entries: readonly VmEntry[]): Promise<Inspection[]> {
    const out: Inspection[] = [];
    for (const e of entries) out.push(await this.inspect(e));
    return out;
  }

  async inspect(entry: VmEntry): Promise<Inspection> {
    if (!entry.webName) return { present: true, lines: [], values: {} };
    const { file, link } = this.site(entry);
    const text = await this.o.files.read(file);
    const linked = (await this.o.files.readlink(link)) !== null;
    if (text === null) return { present: false, lines: [], values: {} };
    const block = nginx.findEntry(text, entry.fqdn);
    const webName = nginx.serverNames(text)[0];
    return {
      present: Boolean(block) && linked,
      lines: [block ? blockLines(file, text, block) : { path: file, text, farmctl: false }],
      values: webName ? { webName } : {},
    };
  }

  /** The instance names of farmctl's sites (a site file holds one block). */
  /** farmctl import: wraps the VM's hand-written site in farmctl's markers, so destroy can remove it. */
  async adopt(entry: VmEntry, record: (r: Revert) => void): Promise<void> {
    if (!entry.webName) return;
    const { file } = this.site(entry);
    const text = await this.o.files.read(file);
    if (text === null || nginx.findEntry(text, entry.fqdn)) return;
    const after = wrapLines(text, text, nginx.COMMENT, entry.fqdn, file);
    await this.check(entry, after, false);
    await this.o.files.apply([{ path: file, content: after }]);
    record({ files: [{ path: file, before: text, afterSha: sha(after) }] });
    await this.o.service.reload();
  }

  unadopt(_entry: VmEntry, data: Revert | undefined): Promise<void> {
    return unadoptEdit(this.o, data, undefined);
  }

  async blockNames(): Promise<string[]> {
    const names: string[] = [];
    for (const f of await this.o.files.list(this.o.sitesAvailable)) {
      names.push(
        ...blockNames(
          (await this.o.files.read(join(this.o.sitesAvailable, f))) ?? "",
          nginx.COMMENT,
        ),
      );
    }
    return names;
  }
}
