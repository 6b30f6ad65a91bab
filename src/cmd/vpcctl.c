/* vpcctl — the operator's CLI. For now it only prints its version. */
#include <stdio.h>
int main(void)
{
	printf("vpcctl %s\n", VPCD_VERSION);
	return 0;
}
