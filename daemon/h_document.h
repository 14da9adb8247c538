/*
 * h_document.h: POST /documents (admins: a PDF, PNG or JPEG stored, answered 201 with the
 * document) and GET /documents/{id} (admins, approvers, auditors: its bytes).
 */
#ifndef FUND_H_DOCUMENT_H
#define FUND_H_DOCUMENT_H

struct http_req;

void	h_document_put(struct http_req *);
void	h_document_get(struct http_req *);

#endif
