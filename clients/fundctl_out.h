/*
 * fundctl_out.h: how fundctl shows an answer (-o json|table|csv), and the methods and
 * help it reads from rpc.discover. Pure: writes to the stream it is given.
 */
#ifndef FUNDCTL_OUT_H
#define FUNDCTL_OUT_H

#include <stdio.h>

#include <cjson/cJSON.h>

enum fc_output { FC_OUT_JSON, FC_OUT_TABLE, FC_OUT_CSV };

/* "json", "table" or "csv"; -1 for anything else. */
int	fc_output_mode(const char *s);

/*
 * A call's result. json: indented JSON. table: a list (the one array of objects of an
 * object, or a report's "rows" and then its "totals") as aligned columns, ids first, money
 * right-aligned with its currency beside it, then next_cursor and count; any other
 * object as "key: value" lines. csv: the same rows, RFC 4180 with a header.
 */
void	fc_print_result(FILE *f, const cJSON *res, enum fc_output mode);

/* rpc.discover's methods as a table: method, roles, mutation. */
void	fc_print_methods(FILE *f, const cJSON *doc);

/* One method of rpc.discover, for people; -1 when doc has no such method. */
int	fc_print_help(FILE *f, const cJSON *doc, const char *method);

#endif /* FUNDCTL_OUT_H */
