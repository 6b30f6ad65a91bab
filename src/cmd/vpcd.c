/* vpcd — the daemon. */
#include <stdio.h>
#include "base/base.h"
int main(void)
{
	log_info("vpcd", "vpcd %s", VPCD_VERSION);
	return 0;
}
