/* h_rpc.h: POST /rpc, a JSON-RPC 2.0 request or batch (rpc.h, rpc_exec.h). */
#ifndef FUND_H_RPC_H
#define FUND_H_RPC_H

struct http_req;

void	h_rpc(struct http_req *);

#endif
