/* The local transport: an engine argv is a child process of berth. */
#include "runtime/transport.h"

#include "common/proc.h"
#include "common/banned.h"

static int local_run(const struct runtime_transport *t, struct proc *p, struct berth_error *err)
{
	(void)t;
	return proc_run(p, err);
}

const struct runtime_transport runtime_transport_local = {
	.name = "local",
	.run = local_run,
	.same_host = true,
	.data = 0,
};
