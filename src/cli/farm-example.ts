// The spec `farmctl farm init` writes: every key of farmctl-farm(5), commented, ready to edit.
export const EXAMPLE_SPEC = `# A staging farm: one command brings up, converges and tears down these VMs.
#   farmctl farm plan farm.toml --var release=3.2.0 --var git_rev=4f2a9c1
#   farmctl farm up farm.toml --var-file release.ini
#   farmctl farm down rel-3-2
# Every key is described in farmctl-farm(5).

# The farm's name: required, never taken from the file name. Its VMs are <name>-<member>.
name = "rel-3-2"

# Variables without which nothing is planned: give them with --var KEY=VALUE or --var-file.
required_vars = ["release", "git_rev"]

# Variables every member sees (vars.KEY in farmd's templates). --var-file, then --var, then a
# member's own vars override them. Values are plain text, never templates themselves.
[vars]
branch = "release/3.2"

[run]
on_error = "continue"   # a member fails: continue (the others finish), stop, or atomic (undo)
wait = "ssh"            # up returns when every member is started, or also answers on SSH
wait_timeout = "10m"    # how long up waits for that: seconds, or with a unit (s, m, h)

# Clone options every member starts from (as farmctl clone's options).
[defaults]
group = "staging"       # the members' group: <name>.<group>.<domain>
memory = "4G"           # memory at start
balloon = "1G"          # ballooned down to this once started
web = false             # false: no nginx site; true: <name>.<public_domain>; or a server name
# start = true          # false: leave the VM stopped
# customize = true      # false: keep the source's hostname, keys and files

# One table a platform: its golden source VM and any clone option, over [defaults].
# --platform centos-7 (or FARM_PLATFORM=centos-7) acts on that platform's members only.
[platforms.centos-7]
source = "builder-centos7"

[platforms.debian-12]
source = "builder-debian12"
memory = "6G"

# One table a member: its platform's options, then its own, win over [defaults].
[members.build-centos7]
platform = "centos-7"
vars = { sysbase = "centos-7" }

[members.build-debian12]
platform = "debian-12"
vars = { sysbase = "debian-12" }

[members.repo]
source = "reprepro"     # a member without a platform names its source
name = "rel-3-2-repo"   # the VM's name; default: <farm>-<member>
web = true
protect = true          # farm down refuses it without --force
`;
