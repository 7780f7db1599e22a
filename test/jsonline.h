/* SPDX-License-Identifier: MIT */
/* Checking libkt's JSON report lines in the suites: a strict validator (one
 * JSON value per line, nothing after it) and a finder for the line of a given
 * event.  Header-only, like scenario.h, so the Makefile's preload rule needs
 * no extra object. */
#ifndef KT_TEST_JSONLINE_H
#define KT_TEST_JSONLINE_H

#include <stdio.h>
#include <string.h>

static const char *json_value(const char *p, int depth);

static const char *json_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static const char *json_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	while (*p && *p != '"') {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c >= 0x7f) /* libkt promises ASCII-only output */
			return NULL;
		if (c == '\\') {
			p++;
			if (*p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i])
						return NULL;
				p += 5;
				continue;
			}
			if (!*p || !strchr("\"\\/bfnrt", *p))
				return NULL;
		}
		p++;
	}
	return *p == '"' ? p + 1 : NULL;
}

static const char *json_number(const char *p)
{
	const char *s = p;
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return NULL;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return NULL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return p > s ? p : NULL;
}

static const char *json_members(const char *p, int depth, char close, int keyed)
{
	p = json_ws(p + 1);
	if (*p == close)
		return p + 1;
	for (;;) {
		if (keyed) {
			p = json_string(json_ws(p));
			if (!p)
				return NULL;
			p = json_ws(p);
			if (*p++ != ':')
				return NULL;
		}
		p = json_value(json_ws(p), depth + 1);
		if (!p)
			return NULL;
		p = json_ws(p);
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

static const char *json_value(const char *p, int depth)
{
	if (depth > 16)
		return NULL;
	p = json_ws(p);
	switch (*p) {
	case '{': return json_members(p, depth, '}', 1);
	case '[': return json_members(p, depth, ']', 0);
	case '"': return json_string(p);
	case 't': return strncmp(p, "true", 4) == 0 ? p + 4 : NULL;
	case 'f': return strncmp(p, "false", 5) == 0 ? p + 5 : NULL;
	case 'n': return strncmp(p, "null", 4) == 0 ? p + 4 : NULL;
	default: return json_number(p);
	}
}

/* 1 if LINE (up to its '\n' or NUL) is exactly one JSON object. */
static inline int json_line_valid(const char *line)
{
	if (*line != '{')
		return 0;
	const char *end = json_value(line, 0);
	return end && (*end == '\n' || *end == '\0');
}

/* The first line of OUT that is a JSON object whose "event" is EVENT, copied
 * into BUF; NULL if there is none. */
static inline const char *json_find_event(const char *out, const char *event, char *buf,
                                          size_t size)
{
	char key[64];
	snprintf(key, sizeof key, "{\"event\":\"%s\"", event);
	for (const char *p = out; p && *p; ) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (strncmp(p, key, strlen(key)) == 0) {
			if (n >= size)
				n = size - 1;
			memcpy(buf, p, n);
			buf[n] = '\0';
			return buf;
		}
		p = nl ? nl + 1 : NULL;
	}
	return NULL;
}

/* Every line of OUT that starts with '{' is valid JSON; returns the first
 * bad one (copied into BUF), or NULL. */
static inline const char *json_first_invalid(const char *out, char *buf, size_t size)
{
	for (const char *p = out; p && *p; ) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (*p == '{') {
			if (n >= size)
				n = size - 1;
			memcpy(buf, p, n);
			buf[n] = '\0';
			if (!json_line_valid(buf))
				return buf;
		}
		p = nl ? nl + 1 : NULL;
	}
	return NULL;
}

#endif
