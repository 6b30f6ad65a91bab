/*
 * ec2_model.h — the wire tables generated from botocore's EC2 model by
 * tools/gen_ec2_model.py (ec2_model.gen.c, built, never edited).
 */
#ifndef VPCD_EC2_MODEL_H
#define VPCD_EC2_MODEL_H

#include <stddef.h>
#include <stdint.h>

enum ec2_shape_type { SH_STRUCT, SH_LIST, SH_STRING, SH_INT, SH_BOOL, SH_TIMESTAMP, SH_DOUBLE };

struct ec2_member {
	const char *m_name;	/* botocore member name: the doc key */
	const char *m_xml;	/* element name in responses (locationName) */
	const char *m_query;	/* parameter name in requests */
	int m_shape;		/* index into ec2_shapes */
	int m_required;
};

struct ec2_shape {
	const char *s_name;
	int s_type;		/* enum ec2_shape_type */
	int s_nmembers;		/* structures */
	int s_first_member;	/* index into ec2_members; a structure's members are sorted by m_name */
	int s_list_member;	/* lists: element shape, else -1 */
	const char *s_item_xml;	/* lists: element name of each item ("item") */
	int s_max_items;	/* lists: most items AWS accepts (the model's max, or
				 * tools/gen_ec2_model.py's LIST_MAX_ITEMS); 0: no bound */
};

struct ec2_operation {
	const char *o_name;
	int o_input;
	int o_output;
};

extern const struct ec2_member ec2_members[];
extern const struct ec2_shape ec2_shapes[];
extern const struct ec2_operation ec2_operations[];	/* sorted by name */
extern const size_t ec2_operation_count;
extern const size_t ec2_shape_count;

#endif
