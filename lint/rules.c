/* The rule set, as data. docs/lint-rules.md documents the same table (a unit
 * test keeps code, severity and title in step); every rule has a positive and
 * a negative fixture in fixtures/lint/<code>-<name>/. Sources for each claim
 * are in ../shared/research/compose-engines.md (NC-sp is nerdctl's
 * pkg/composer/serviceparser/serviceparser.go). */
#include "lint/rules.h"

#include <string.h>
#include <strings.h>

#include "lint/internal.h"
#include "common/banned.h"

#define NF LINT_T_NERDCTL_FINCH
#define NFP (LINT_T_NERDCTL_FINCH | LINT_T(PODMAN))
#define ALL (LINT_T_NERDCTL_FINCH | LINT_T(PODMAN) | LINT_T(DOCKER))

const struct lint_rule lint_rules[R_COUNT] = {
	/* ---- ports ---- */
	[R_EPHEMERAL_HOST_PORT] = {
		"BL001", "ephemeral-host-port", LINT_WARNING, "port published on a random host port", NF, { 0 }, false,
		"A port without a host part (\"- 5432\") asks the engine for a random free host port. nerdctl before "
		"1.0 rejects it (\"unsupported port number: 0\", nerdctl#351), rootless nerdctl cannot allocate one "
		"(\"automatic port allocation is not implemented for rootless mode\"), several ephemeral ports have "
		"collided (nerdctl#1530, #2164, #2537), and Lima does not reliably forward randomly chosen ports to "
		"the Mac (lima#527).",
		"publish a fixed host port, such as \"127.0.0.1:5432:5432\"",
		check_ephemeral_host_port, NULL },
	[R_PORT_MODE_HOST] = {
		"BL002", "port-mode-host", LINT_ERROR, "port uses mode: host", NF, { 0 }, true,
		"nerdctl accepts only the ingress port mode and stops with \"unsupported port mode\" on mode: host "
		"(NC-sp servicePortConfigToFlagP). Outside Swarm, Docker Compose publishes the port the same way in "
		"both modes, so ingress is equivalent.",
		"set \"mode: ingress\" or remove the mode",
		check_port_mode_host, NULL },
	[R_LARGE_PORT_RANGE] = {
		"BL003", "large-port-range", LINT_WARNING, "large port range", NF, { 0 }, false,
		"nerdctl passes one -p flag per port of a range. Ranges of a few hundred ports have failed container "
		"creation and left a stale name lock (nerdctl#1144, nerdctl#4027 for a 200-port range), and each "
		"port is a forwarding rule in the VM.",
		"publish only the ports the service needs, or use network_mode: host on Linux",
		check_large_port_range, NULL },
	[R_PORT_FIELD_IGNORED] = {
		"BL004", "port-field-ignored", LINT_INFO, "port name or app_protocol ignored", NF, { 0 }, false,
		"nerdctl compose logs \"Ignoring: port\" for the long-syntax name and app_protocol fields and drops "
		"them (NC-sp). They carry no meaning for the container, only for tools that read the model.",
		"remove the field, or keep it knowing nerdctl drops it",
		check_port_field_ignored, NULL },

	/* ---- mounts and paths ---- */
	[R_PROJECT_OUTSIDE_VM_SHARE] = {
		"BL005", "project-outside-vm-share", LINT_ERROR, "project directory not shared with the VM",
		LINT_T(FINCH), { 0 }, false,
		"Finch parses the compose file inside its VM, which sees only the directories it shares: your home "
		"directory, /tmp/lima, /private and /var/folders, plus additional_directories from finch.yaml "
		"(finch#107, finch#220). A project elsewhere, such as on /Volumes, cannot be read at all.",
		"move the project under your home directory, or add its directory to additional_directories in "
		"~/.finch/finch.yaml (and pass --mount DIR to berth lint)",
		NULL, check_project_outside_vm_share },
	[R_BIND_OUTSIDE_VM_SHARE] = {
		"BL006", "bind-outside-vm-share", LINT_ERROR, "bind mount source not shared with the VM",
		LINT_T(FINCH), { 0 }, false,
		"A bind mount, secret or config file, or build context outside the directories the Finch VM shares "
		"does not exist inside the VM: the mount fails with \"no such file or directory\" or, with "
		"create_host_path, silently becomes an empty directory (finch#107, finch#220, finch#131).",
		"keep mounted paths under your home directory, or add their directory to additional_directories in "
		"~/.finch/finch.yaml (and pass --mount DIR to berth lint)",
		check_bind_outside_vm_share, check_bind_outside_vm_share_top },
	[R_HOME_IN_BIND_SOURCE] = {
		"BL007", "home-in-bind-source", LINT_WARNING, "bind source depends on ~, $HOME or $PWD", NF, { 0 },
		false,
		"~, $HOME and $PWD are expanded by whoever runs the compose loader. Under Finch that is the VM user "
		"inside the VM (home /home/<user>.linux, not /Users/<user>); under sudo nerdctl it is root, and $PWD "
		"is often unset (nerdctl#837, nerdctl#1026, finch#124). Because short-syntax binds create missing "
		"paths, a mount of ~/.gitconfig then silently becomes an empty directory.",
		"use a path relative to the project (\"./config\") or an absolute host path",
		check_home_in_bind_source, NULL },
	[R_DATABASE_BIND_MOUNT] = {
		"BL008", "database-bind-mount", LINT_WARNING, "database data directory on a bind mount",
		LINT_T(FINCH), { 0 }, false,
		"Database images chown their data directory on start. On directories the VM shares from the Mac "
		"(virtiofs, sshfs, 9p) that fails with \"chown: changing ownership ... Permission denied\" (finch#81, "
		"lima#231, lima#1513); the maintainers' advice is a named volume.",
		"use a named volume for the data directory, such as \"db-data:/var/lib/postgresql/data\"",
		check_database_bind_mount, NULL },
	[R_DOCKER_SOCKET_MOUNT] = {
		"BL009", "docker-socket-mount", LINT_WARNING, "Docker socket mounted into a container", NFP, { 0 },
		false,
		"nerdctl drives containerd, which has no Docker API socket: /var/run/docker.sock does not exist (or "
		"is not Docker). Podman serves a Docker-compatible API only when its socket service runs, at "
		"/run/podman/podman.sock. Tools in the container that talk to Docker fail.",
		"mount the engine's Docker-compatible socket instead (finch-daemon, podman.socket), or drop the mount",
		check_docker_socket_mount, NULL },
	[R_UNSUPPORTED_MOUNT_TYPE] = {
		"BL010", "unsupported-mount-type", LINT_ERROR, "mount type not supported", NF, { 0 }, false,
		"nerdctl compose handles bind, volume and tmpfs mounts; type image, npipe and cluster stop with "
		"\"unsupported volume type\" (NC-sp serviceVolumeConfigToFlagV).",
		"use a bind mount or a named volume",
		check_unsupported_mount_type, NULL },
	[R_MOUNT_OPTION_IGNORED] = {
		"BL011", "mount-option-ignored", LINT_INFO, "mount option ignored", NF, { 0 }, false,
		"nerdctl compose drops consistency, bind.selinux (:z, :Z), volume.nocopy and volume.subpath (NC-sp). "
		"On an SELinux host the missing relabel can deny access; the others change only performance or "
		"which part of a volume is mounted.",
		"remove the option, or relabel the directory on the host yourself",
		check_mount_option_ignored, NULL },
	[R_VOLUME_DRIVER_IGNORED] = {
		"BL012", "volume-driver-ignored", LINT_WARNING, "volume driver or driver_opts ignored", NF, { 0 },
		false,
		"nerdctl compose creates every named volume with the local driver and logs \"Ignoring\" for driver, "
		"driver_opts and labels (up_volume.go); nerdctl volume create has no --driver/--opt (nerdctl#694). An "
		"NFS or tmpfs volume becomes an ordinary directory and the data lands somewhere else.",
		"mount the NFS share on the host (or in the VM) and bind-mount it, or create the volume by hand and "
		"declare it external",
		NULL, check_volume_driver_ignored },

	/* ---- networking ---- */
	[R_HOST_DOCKER_INTERNAL] = {
		"BL013", "host-docker-internal", LINT_WARNING, "host.docker.internal does not resolve",
		LINT_T(NERDCTL), { 0 }, false,
		"Docker Desktop adds host.docker.internal to every container. nerdctl does not (nerdctl#747, "
		"finch#1079), so the name fails to resolve unless the service maps it itself. Finch maps it to the "
		"Mac through Lima's host resolver.",
		"add extra_hosts: [\"host.docker.internal:host-gateway\"] to the service",
		check_host_docker_internal, NULL },
	[R_HOST_GATEWAY] = {
		"BL014", "host-gateway", LINT_WARNING, "host-gateway resolves to the VM, not the Mac", LINT_T(FINCH),
		{ 0 }, false,
		"In a compose file nerdctl replaces host-gateway with its --host-gateway-ip default, the VM's own "
		"address. Finch rewrites host-gateway to the Mac only for --add-host on its command line (lima#450, "
		"nerdctl_darwin.go), so the container reaches the VM instead of services on the Mac.",
		"use the name host.docker.internal or host.finch.internal, which Finch maps to the Mac, or "
		"192.168.5.2 (Lima's host address)",
		check_host_gateway, NULL },
	[R_NETWORK_ALIASES] = {
		"BL015", "network-aliases", LINT_WARNING, "network aliases not supported", NF, { 0 }, false,
		"nerdctl has no network aliases: names come from an /etc/hosts file per container listing service "
		"and container names (hostsstore/updater.go), and networks.<net>.aliases is ignored. Other containers "
		"cannot resolve the alias.",
		"reach the service by its service name, or set its hostname (one extra name) instead",
		check_network_aliases, NULL },
	[R_NETWORK_MODE_SERVICE] = {
		"BL016", "network-mode-service", LINT_ERROR, "network_mode service: not supported", NF, { 0 }, false,
		"nerdctl compose accepts network_mode container:<name> but stops with \"unsupported network_mode\" on "
		"service:<name> (NC-sp getNetworks, nerdctl#2833).",
		"use network_mode: \"container:<project>-<service>-1\" (the container's name), or put both services "
		"on one network",
		check_network_mode_service, NULL },
	[R_EMBEDDED_DNS_RESOLVER] = {
		"BL017", "embedded-dns-resolver", LINT_WARNING, "configuration uses Docker's DNS at 127.0.0.11", NFP,
		{ 0 }, false,
		"Docker answers DNS inside every user-defined network at 127.0.0.11. nerdctl resolves service names "
		"through /etc/hosts and Podman through aardvark-dns on the network's gateway, so nothing listens on "
		"127.0.0.11: an nginx \"resolver 127.0.0.11\" or a dns: entry stops resolving names (nerdctl#1387).",
		"use the nameserver from the container's /etc/resolv.conf, or avoid re-resolving names at run time",
		check_embedded_dns_resolver, NULL },
	[R_NETWORK_OPTION_IGNORED] = {
		"BL018", "network-option-ignored", LINT_WARNING, "network option ignored", NF, { 0 }, false,
		"nerdctl compose creates networks from name, driver, driver_opts and the first ipam.config entry only "
		"(up_network.go): labels, internal, attachable, enable_ipv6, further ipam entries and aux_addresses "
		"are dropped; per service, ipv6_address, link_local_ips and priority are ignored (NC-sp). An "
		"internal: true network can then reach the outside.",
		"remove the option, or create the network by hand with nerdctl network create and mark it external",
		check_network_option_ignored_svc, check_network_option_ignored },

	/* ---- dependencies, health, restart ---- */
	[R_DEPENDS_ON_CONDITION] = {
		"BL019", "depends-on-condition", LINT_WARNING, "depends_on condition not waited for", NFP,
		{ [LINT_TARGET_PODMAN] = "4.6.0" }, false,
		"nerdctl compose logs \"Ignoring: ... condition service_healthy\" and starts dependents at once, for "
		"service_healthy and service_completed_successfully alike (nerdctl#2386, nerdctl#4709, finch#494). "
		"podman-compose waits for them only with podman 4.6 or later. berth compose waits itself.",
		"run the project with berth compose (which waits), or make the dependent service retry until its "
		"dependency is ready",
		check_depends_on_condition, NULL },
	[R_DEPENDS_ON_OPTION_IGNORED] = {
		"BL020", "depends-on-option-ignored", LINT_INFO, "depends_on required or restart ignored", NFP, { 0 },
		false,
		"nerdctl compose reads only condition from a depends_on entry and podman-compose only condition: "
		"required: false does not make a missing dependency optional, and restart: true does not restart "
		"the dependent when the dependency is recreated.",
		"remove the option, or restart dependents by hand after recreating a dependency",
		check_depends_on_option_ignored, NULL },
	[R_HEALTHCHECK_EXEC_FORM] = {
		"BL021", "healthcheck-exec-form", LINT_WARNING, "exec-form healthcheck rewritten to shell form", NF,
		{ 0 }, true,
		"nerdctl turns test: [\"CMD\", ...] into --health-cmd with the arguments joined by spaces, run by "
		"/bin/sh -c (a warning in NC-sp). Arguments holding spaces, quotes or shell characters then split or "
		"change meaning.",
		"write the test in CMD-SHELL form with the arguments quoted for the shell",
		check_healthcheck_exec_form, NULL },
	[R_HEALTHCHECK_NOT_RUN] = {
		"BL022", "healthcheck-not-run", LINT_WARNING, "healthchecks not run by this engine version", NF,
		{ [LINT_TARGET_NERDCTL] = "2.1.5", [LINT_TARGET_FINCH] = "1.14.0" }, false,
		"nerdctl runs healthchecks from 2.1.5 (Finch from 1.14.0) through systemd timers; older versions drop "
		"them with \"Ignoring: service X: [HealthCheck]\" (finch#494, nerdctl#2386), so the container never "
		"reports healthy. Rootless nerdctl starts no timers (docs/healthchecks.md).",
		"upgrade to nerdctl 2.1.5 or Finch 1.14.0 or later",
		check_healthcheck_not_run, NULL },
	[R_HEALTHCHECK_START_INTERVAL] = {
		"BL023", "healthcheck-start-interval", LINT_INFO, "healthcheck start_interval not supported", NF,
		{ 0 }, false,
		"nerdctl has no --health-start-interval (NC-doc): during start_period the check runs at the normal "
		"interval, so a service may report healthy later than under Docker.",
		"remove start_interval, or shorten interval",
		check_healthcheck_start_interval, NULL },
	[R_RESTART_POLICY_REJECTED] = {
		"BL024", "restart-policy-rejected", LINT_ERROR, "restart_policy condition rejected", NF, { 0 }, true,
		"nerdctl maps deploy.restart_policy.condition any to always and none to no, and stops on always and "
		"no with \"did you mean any/none\" (NC-sp getRestart). Docker Compose treats always like any and no "
		"like none, so the rename is equivalent.",
		"use \"any\" for always and \"none\" for no",
		check_restart_policy_rejected, NULL },
	[R_RESTART_POLICY_IGNORED] = {
		"BL025", "restart-policy-ignored", LINT_WARNING, "restart_policy setting ignored", NFP, { 0 }, false,
		"nerdctl ignores deploy.restart_policy condition on-failure and the max_attempts, delay and window "
		"fields (NC-sp getRestart; finch#181); podman-compose does not read deploy.restart_policy at all. The "
		"container is then not restarted as Docker would.",
		"use the service-level restart: key (\"on-failure:3\", \"unless-stopped\"), which every engine honours",
		check_restart_policy_ignored, NULL },
	[R_TTY_STDIN_MISMATCH] = {
		"BL026", "tty-stdin-mismatch", LINT_ERROR, "tty and stdin_open differ", NF, { 0 }, true,
		"nerdctl stops with \"currently StdinOpen(-i) and Tty(-t) should be same\" when only one of tty and "
		"stdin_open is true (nerdctl#1960, nerdctl#590, nerdctl#1604). Keeping stdin open as well is harmless "
		"under Docker.",
		"set stdin_open: true next to tty: true, or remove both",
		check_tty_stdin_mismatch, NULL },

	/* ---- keys nerdctl compose ignores ---- */
	[R_EXPOSE_IGNORED] = {
		"BL027", "expose-ignored", LINT_INFO, "expose ignored", NF, { 0 }, false,
		"nerdctl compose logs \"Ignoring: service X: [Expose]\" (finch#186). Containers on the same network "
		"reach each other's ports anyway; only tools that read exposed ports (-P, inspect) see a difference.",
		"remove expose, or keep it as documentation",
		check_expose_ignored, NULL },
	[R_LINKS_UNSUPPORTED] = {
		"BL028", "links-unsupported", LINT_WARNING, "links not supported", NF, { 0 }, false,
		"nerdctl compose does not implement links (NC-doc): only the implied start order survives. A link "
		"alias (\"db:database\") never resolves.",
		"reach the service by its service name and express the order with depends_on",
		check_links_unsupported, NULL },
	[R_EXTERNAL_LINKS_UNSUPPORTED] = {
		"BL029", "external-links-unsupported", LINT_WARNING, "external_links not supported", NF, { 0 }, false,
		"nerdctl compose does not implement external_links (NC-doc): the linked container's name and alias "
		"do not resolve.",
		"attach both containers to a shared external network and use the container name",
		check_external_links_unsupported, NULL },
	[R_VOLUMES_FROM_UNSUPPORTED] = {
		"BL030", "volumes-from-unsupported", LINT_WARNING, "volumes_from not supported", NFP, { 0 }, false,
		"nerdctl compose ignores volumes_from (finch#195) and podman-compose does not implement it: the "
		"service starts without the other container's volumes.",
		"declare the shared named volumes on both services",
		check_volumes_from_unsupported, NULL },
	[R_LIFECYCLE_HOOKS_IGNORED] = {
		"BL031", "lifecycle-hooks-ignored", LINT_WARNING, "lifecycle hooks ignored", NFP, { 0 }, false,
		"post_start, pre_stop and pre_start hooks run only under Docker Compose (pkg/compose/hook.go); "
		"nerdctl compose and podman-compose skip them silently.",
		"run the commands from the image's entrypoint, or with berth compose exec after up",
		check_lifecycle_hooks_ignored, NULL },
	[R_DEVELOP_WATCH_UNSUPPORTED] = {
		"BL032", "develop-watch-unsupported", LINT_INFO, "develop (compose watch) not supported", NFP, { 0 },
		false,
		"nerdctl has no compose watch and ignores develop (nerdctl#3276); podman-compose neither (pc#792).",
		"bind-mount the sources for live reload, or rebuild with up --build",
		check_develop_watch_unsupported, NULL },
	[R_SERVICE_KEY_IGNORED] = {
		"BL033", "service-key-ignored", LINT_WARNING, "service key ignored by nerdctl compose", NF, { 0 }, false,
		"nerdctl compose builds nerdctl run flags from an allowlist of service keys and logs \"Ignoring\" for "
		"the others (NC-sp, reflectutil.UnknownNonEmptyFields): ipc, userns_mode, cgroup_parent, "
		"mem_reservation, memswap_limit, oom_score_adj, credential_spec, domainname and more. The container "
		"runs without the setting.",
		"remove the key, or apply the setting another way (for memory, mem_limit is honoured)",
		check_service_key_ignored, NULL },
	[R_DEPLOY_RESOURCE_IGNORED] = {
		"BL034", "deploy-resource-ignored", LINT_WARNING, "deploy resource setting ignored", NF, { 0 }, false,
		"nerdctl honours deploy.resources.limits.cpus and .memory and GPU reservations; reservations of cpus "
		"and memory and limits.pids are ignored (NC-sp, NC-doc).",
		"use limits, or pids_limit for the process limit",
		check_deploy_resource_ignored, NULL },

	/* ---- secrets and configs ---- */
	[R_SECRET_CONFIG_OWNERSHIP] = {
		"BL035", "secret-config-ownership", LINT_ERROR, "secret or config uid, gid or mode rejected", NF, { 0 },
		false,
		"nerdctl mounts secrets and configs as read-only bind mounts and stops when uid, gid or mode is set "
		"(NC-sp fileReferenceConfigToFlagV); Docker Compose only warns.",
		"remove uid, gid and mode, and set the file's ownership and permissions on the host",
		check_secret_config_ownership, NULL },
	[R_SECRET_FROM_ENVIRONMENT] = {
		"BL036", "secret-from-environment", LINT_ERROR, "secret from an environment variable", NFP, { 0 },
		false,
		"nerdctl supports only file secrets: a secret with environment: fails \"lacks file path\" "
		"(up.go validateFileObjectConfig). podman-compose has no environment secrets either (pc#1423).",
		"write the value to a file outside version control and use file:",
		NULL, check_secret_from_environment },
	[R_CONFIG_CONTENT_OR_ENVIRONMENT] = {
		"BL037", "config-content-or-environment", LINT_ERROR, "config with inline content or environment",
		NF, { 0 }, false,
		"nerdctl supports only file configs: inline content: is ignored with \"Ignoring: config\" "
		"(nerdctl#3098) and environment: fails \"lacks file path\", so the file is missing in the container.",
		"put the content in a file next to the compose file and use file:",
		NULL, check_config_content_or_environment },
	[R_CONFIGS_UNSUPPORTED] = {
		"BL038", "configs-unsupported", LINT_ERROR, "configs not supported by podman-compose",
		LINT_T(PODMAN), { 0 }, false,
		"podman-compose has no support for configs (pc#835): the files are not mounted.",
		"bind-mount the file read-only instead (\"./app.conf:/etc/app.conf:ro\")",
		check_configs_unsupported, NULL },

	/* ---- build and images ---- */
	[R_REMOTE_BUILD_CONTEXT] = {
		"BL039", "remote-build-context", LINT_ERROR, "remote build context not supported", NF, { 0 }, false,
		"nerdctl compose builds only from a local directory: a git or URL context stops with \"URL-style "
		"context ... is not supported yet\" (NC-build, NC-doc).",
		"clone the repository and point context at the local directory",
		check_remote_build_context, NULL },
	[R_BUILD_OPTION_IGNORED] = {
		"BL040", "build-option-ignored", LINT_WARNING, "build option ignored", NF, { 0 }, false,
		"nerdctl compose passes context, dockerfile, args, target, labels, cache_from, secrets and "
		"additional_contexts to BuildKit; ssh, cache_to, platforms, tags, extra_hosts, network, pull, "
		"no_cache, shm_size, ulimits and privileged are dropped with a warning (NC-build, nerdctl#4171).",
		"remove the option, or build with nerdctl build and the matching flag",
		check_build_option_ignored, NULL },
	[R_PLATFORM_EMULATION] = {
		"BL041", "platform-emulation", LINT_WARNING, "platform needs emulation on this host", NFP, { 0 }, false,
		"An image for another CPU architecture runs under emulation: qemu-user in the VM is slow and crashes "
		"in many Apple-silicon setups, and Rosetta is off by default in Finch and unavailable with some "
		"kernels (finch#218, nerdctl#3948). Docker Desktop users often had Rosetta on.",
		"use a multi-architecture image and drop platform, or enable Rosetta (rosetta: true in finch.yaml)",
		check_platform_emulation, NULL },
	[R_PULL_POLICY_REJECTED] = {
		"BL042", "pull-policy-rejected", LINT_ERROR, "pull_policy value rejected", NF, { 0 }, false,
		"nerdctl accepts pull_policy always, never, missing (if_not_present) and build; daily, weekly, "
		"every_<duration> and refresh stop with \"invalid --pull option\" (NC-sp).",
		"use \"always\", or \"missing\" and pull on a schedule with berth compose pull",
		check_pull_policy_rejected, NULL },

	/* ---- the project ---- */
	[R_OBSOLETE_VERSION] = {
		"BL043", "obsolete-version", LINT_INFO, "obsolete top-level version", ALL, { 0 }, true,
		"The top-level version is obsolete in the Compose specification: Docker Compose v2 warns \"the "
		"attribute `version` is obsolete\" and ignores it, as nerdctl and Podman do. Removing it changes "
		"nothing.",
		"remove the version line",
		NULL, check_obsolete_version },
	[R_HOST_VARIABLE_NOT_FORWARDED] = {
		"BL044", "host-variable-not-forwarded", LINT_WARNING, "variable from the shell not seen by Finch",
		LINT_T(FINCH), { 0 }, false,
		"Finch interpolates the compose file inside its VM and forwards only a few variables from your shell "
		"(AWS credentials and AWS_PROFILE, AWS_ECR_*, COSIGN_PASSWORD, COMPOSE_FILE, SOURCE_DATE_EPOCH; "
		"nerdctl_remote.go passedEnvs): "
		"\"FOO=1 finch compose up\" reports \"The FOO variable is not set\" (finch#283, finch#124).",
		"define the variable in the project's .env file, or give it a default (${VAR:-value})",
		NULL, check_host_variable_not_forwarded },
	[R_REPLICAS_WITHOUT_DEPLOY_MODE] = {
		"BL045", "replicas-without-deploy-mode", LINT_WARNING, "deploy.replicas ignored by podman-compose",
		LINT_T(PODMAN), { 0 }, false,
		"podman-compose uses deploy.replicas only when deploy.mode: replicated is written out; otherwise it "
		"starts one container (podman_compose.py).",
		"add \"mode: replicated\" under deploy, or use scale:",
		check_replicas_without_deploy_mode, NULL },
};

const struct lint_rule *lint_rule_find(const char *code)
{
	for (size_t i = 0; i < R_COUNT; i++)
		if (!strcasecmp(lint_rules[i].code, code))
			return &lint_rules[i];
	return NULL;
}

size_t lint_rule_index(const struct lint_rule *r)
{
	return (size_t)(r - lint_rules);
}

bool lint_rule_applies(const struct lint_rule *r, enum lint_target t, const struct lint_version *v)
{
	if (!(r->targets & (1u << t)))
		return false;
	const char *fixed = r->fixed_in[t];
	if (!fixed)
		return true;
	struct lint_version fv;
	if (!v || lint_version_parse(&fv, fixed))
		return false; /* the newest release is assumed: fixed */
	return lint_version_cmp(v, &fv) < 0;
}
