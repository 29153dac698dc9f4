/**
 * GENERATED FILE: do not edit. Regenerate with `npm run client:generate`
 * (clients/typescript/scripts/generate.ts: openapi-typescript on the OpenAPI document the server serves with
 * its default configuration, no API_KEY and no RATE_LIMIT).
 */

export interface paths {
    "/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Index
         * @description Where the documentation, the OpenAPI document, the health check and the users collection are.
         */
        get: operations["getIndex"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        /**
         * Index (headers only)
         * @description The same as GET, without the body. Where the documentation, the OpenAPI document, the health check and the users collection are.
         */
        head: operations["headIndex"];
        patch?: never;
        trace?: never;
    };
    "/healthcheck": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Health check
         * @description Answers 200 after a real round trip to the database, 503 when the database does not answer.
         */
        get: operations["getHealth"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        /**
         * Health check (headers only)
         * @description The same as GET, without the body. Answers 200 after a real round trip to the database, 503 when the database does not answer.
         */
        head: operations["headHealth"];
        patch?: never;
        trace?: never;
    };
    "/livez": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Liveness probe
         * @description Answers 200 whenever the process can answer, without asking the database: a liveness probe that fails means the process should be restarted, which would not mend a database that is down.
         */
        get: operations["getLiveness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        /**
         * Liveness probe (headers only)
         * @description The same as GET, without the body. Answers 200 whenever the process can answer, without asking the database: a liveness probe that fails means the process should be restarted, which would not mend a database that is down.
         */
        head: operations["headLiveness"];
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Readiness probe
         * @description Answers 200 when this server should get traffic: the database answers and has every migration of this release. 503 from the moment the server receives SIGTERM (while it still finishes and serves requests for SHUTDOWN_DELAY_MS), so that a balancer stops sending before the server closes.
         */
        get: operations["getReadiness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        /**
         * Readiness probe (headers only)
         * @description The same as GET, without the body. Answers 200 when this server should get traffic: the database answers and has every migration of this release. 503 from the moment the server receives SIGTERM (while it still finishes and serves requests for SHUTDOWN_DELAY_MS), so that a balancer stops sending before the server closes.
         */
        head: operations["headReadiness"];
        patch?: never;
        trace?: never;
    };
    "/users/export": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Export users
         * @description Every user matching the filters, in the sort order, as one streamed response: CSV (RFC 4180, a header row of the field names; a text cell that starts with =, +, -, @, tab or CR gets a leading single quote, so that a spreadsheet shows it as text) or NDJSON (one User per line). Read in pages of 500 users: not a snapshot of one instant, each user at most once unless its sort field changes meanwhile.
         */
        get: operations["getUsersExport"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        /**
         * Export users (headers only)
         * @description The same as GET, without the body. Every user matching the filters, in the sort order, as one streamed response: CSV (RFC 4180, a header row of the field names; a text cell that starts with =, +, -, @, tab or CR gets a leading single quote, so that a spreadsheet shows it as text) or NDJSON (one User per line). Read in pages of 500 users: not a snapshot of one instant, each user at most once unless its sort field changes meanwhile.
         */
        head: operations["headUsersExport"];
        patch?: never;
        trace?: never;
    };
    "/users/import": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Import users
         * @description Creates users from CSV (text/csv: a header row naming the columns, as the export writes them) or NDJSON (application/x-ndjson: one user object per line). Each row is validated as the body of POST /users/; id, created_at and updated_at are accepted and ignored, so that an export imports as it is. In CSV an empty cell is an absent value, and one leading single quote before =, +, -, @, tab, CR or another quote is dropped (the export adds it). A duplicate email, of an existing user or of an earlier row, refuses the row.
         *
         *     Default (per row): users are created in transactions of 500 rows as the upload streams in, and refused rows are reported. With atomic=true, all or none: any refused row, and nothing is created (a 422 listing them); at most 10000 rows.
         *
         *     The upload may be IMPORT_BODY_LIMIT bytes, counted as it arrives; a CSV record or NDJSON line at most 65536 characters. If the upload is cut (413, or a lost connection), the transactions committed stay: every row up to last_line of an answer is settled; resume with from_line = last_line + 1, or send the whole file again: the users created already are refused rows (their email is taken), never created twice.
         */
        post: operations["importUsers"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/users/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List users
         * @description A page of users as a bare JSON array, in a stable order. X-Total-Count counts the rows matching the filters; Link gives first, prev, next (a keyset cursor) and last pages.
         */
        get: operations["listUsers"];
        put?: never;
        /**
         * Create a user
         * @description With an Idempotency-Key header, a retry with the same key and body returns the original response (with Idempotent-Replayed: true) instead of creating a second user; keys are kept for 24 hours.
         */
        post: operations["createUser"];
        delete?: never;
        options?: never;
        /**
         * List users (headers only)
         * @description The same as GET, without the body. A page of users as a bare JSON array, in a stable order. X-Total-Count counts the rows matching the filters; Link gives first, prev, next (a keyset cursor) and last pages.
         */
        head: operations["headUsers"];
        patch?: never;
        trace?: never;
    };
    "/users/{user_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get a user
         * @description The user with this id, and its ETag. With If-None-Match naming the current ETag (or *), 304 without a body: the copy the client has is current.
         */
        get: operations["getUser"];
        put?: never;
        post?: never;
        /**
         * Delete a user
         * @description With If-Match, the user is deleted only if it is still at that ETag (412 otherwise).
         */
        delete: operations["deleteUser"];
        options?: never;
        /**
         * Get a user (headers only)
         * @description The same as GET, without the body. The user with this id, and its ETag. With If-None-Match naming the current ETag (or *), 304 without a body: the copy the client has is current.
         */
        head: operations["headUser"];
        /**
         * Update a user partially
         * @description Only the fields present in the body change; null is accepted only for age. With If-Match, the change is made only if the user is still at that ETag (412 otherwise).
         */
        patch: operations["updateUser"];
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /**
         * @description The body of a create: first_name, last_name, email required; the other fields optional
         * @example {
         *       "first_name": "John",
         *       "last_name": "Doe",
         *       "age": 30,
         *       "email": "john.doe@example.com"
         *     }
         */
        UserCreate: {
            /**
             * @description First name: 1-100 characters, not blank (not only whitespace), without control characters or lone surrogates
             * @example John
             */
            first_name: string;
            /**
             * @description Last name: 1-100 characters, not blank (not only whitespace), without control characters or lone surrogates
             * @example Doe
             */
            last_name: string;
            /**
             * @description Age in years, 0-150, or null when unknown
             * @example 30
             */
            age?: number | null;
            /**
             * Format: email
             * @description A valid ASCII email address, unique case-insensitively
             * @example john.doe@example.com
             */
            email: string;
        };
        /**
         * @description A partial update: only the fields sent change; null only where the field allows it
         * @example {
         *       "age": 30
         *     }
         */
        UserUpdate: {
            /**
             * @description First name: 1-100 characters, not blank (not only whitespace), without control characters or lone surrogates
             * @example John
             */
            first_name?: string;
            /**
             * @description Last name: 1-100 characters, not blank (not only whitespace), without control characters or lone surrogates
             * @example Doe
             */
            last_name?: string;
            /**
             * @description Age in years, 0-150, or null when unknown
             * @example 30
             */
            age?: number | null;
            /**
             * Format: email
             * @description A valid ASCII email address, unique case-insensitively
             * @example john.doe@example.com
             */
            email?: string;
        };
        User: {
            /**
             * @description Server-assigned, never reused
             * @example 1
             */
            id: number;
            /**
             * @description First name: 1-100 characters, not blank (not only whitespace), without control characters or lone surrogates
             * @example John
             */
            first_name: string;
            /**
             * @description Last name: 1-100 characters, not blank (not only whitespace), without control characters or lone surrogates
             * @example Doe
             */
            last_name: string;
            /**
             * @description Age in years, 0-150, or null when unknown
             * @example 30
             */
            age: number | null;
            /**
             * Format: email
             * @description A valid ASCII email address, unique case-insensitively
             * @example john.doe@example.com
             */
            email: string;
            /**
             * Format: date-time
             * @description When the user was created (RFC 3339, UTC)
             * @example 2026-11-26T10:13:25.123Z
             */
            created_at: string;
            /**
             * Format: date-time
             * @description When the user last changed (RFC 3339, UTC)
             * @example 2026-11-26T10:13:25.123Z
             */
            updated_at: string;
        };
        Problem: {
            /**
             * @description about:blank: the status code and `code` say what happened
             * @example about:blank
             */
            type: string;
            /**
             * @description The HTTP status phrase
             * @example Not Found
             */
            title: string;
            /** @example 404 */
            status: number;
            /**
             * @description A human-readable sentence
             * @example User not found
             */
            detail: string;
            /**
             * @description A stable machine-readable error code
             * @example USER_NOT_FOUND
             */
            code: string;
            /** @description The X-Request-Id of the request, to find it in the logs */
            request_id?: string;
            /** @description The validation problems found, at most 100: all of them when errors_omitted is absent. Beyond that, problems with the declared fields are listed before unknown fields. */
            errors?: {
                /**
                 * @description Where the problem is: the request part (body, query, path) followed by the field path
                 * @example [
                 *       "body",
                 *       "email"
                 *     ]
                 */
                location: (string | number)[];
                /** @example must be a valid email */
                message: string;
            }[];
            /**
             * @description How many more validation problems there are than errors lists; absent when it lists them all
             * @example 89900
             */
            errors_omitted?: number;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: {
        /** @description The request's id: the client's X-Request-Id when it is a safe token (1-128 of A-Z a-z 0-9 . _ : -), else a new UUID */
        "X-Request-Id": string;
        /** @description W3C Trace Context: the trace of the request's traceparent (or a new one when it has none or an invalid one), with this server's span as the parent id; the trace id is in every log line of the request */
        traceparent: string;
    };
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    getIndex: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The links of the service */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "name": "users-api",
                     *       "docs": "/docs",
                     *       "openapi": "/openapi.json",
                     *       "health": "/healthcheck",
                     *       "users": "/users/"
                     *     }
                     */
                    "application/json": {
                        name: string;
                        docs: string;
                        openapi: string;
                        health: string;
                        users: string;
                    };
                };
            };
            /** @description The request is malformed (HOST_REQUIRED: see the examples) */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "HOST_REQUIRED";
                    };
                };
            };
            /** @description This server is shutting down (code SHUTTING_DOWN: on a new connection another instance answers); retry after Retry-After */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    /** @description Seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "SHUTTING_DOWN";
                    };
                };
            };
        };
    };
    headIndex: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The links of the service */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The request is malformed (HOST_REQUIRED: see the examples) */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description This server is shutting down (code SHUTTING_DOWN: on a new connection another instance answers); retry after Retry-After */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    /** @description Seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    getHealth: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The service and its database answer */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "status": "ok",
                     *       "message": "The service is healthy"
                     *     }
                     */
                    "application/json": {
                        /** @enum {string} */
                        status: "ok";
                        message: string;
                    };
                };
            };
            /** @description The request is malformed (HOST_REQUIRED: see the examples) */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "HOST_REQUIRED";
                    };
                };
            };
            /** @description An unexpected error; logged with the request id, nothing internal is shown (code INTERNAL_ERROR) */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "INTERNAL_ERROR";
                    };
                };
            };
            /** @description The database does not answer, or this server is shutting down (code SHUTTING_DOWN: on a new connection another instance answers); retry after Retry-After */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    /** @description Seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "DATABASE_UNAVAILABLE" | "DATABASE_READ_ONLY" | "DATABASE_FILE_MISSING" | "DATABASE_FILE_REPLACED" | "SHUTTING_DOWN";
                    };
                };
            };
        };
    };
    headHealth: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The service and its database answer */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The request is malformed (HOST_REQUIRED: see the examples) */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description An unexpected error; logged with the request id, nothing internal is shown (code INTERNAL_ERROR) */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The database does not answer, or this server is shutting down (code SHUTTING_DOWN: on a new connection another instance answers); retry after Retry-After */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    /** @description Seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    getLiveness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The process answers */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "status": "ok",
                     *       "message": "The process answers"
                     *     }
                     */
                    "application/json": {
                        /** @enum {string} */
                        status: "ok";
                        message: string;
                    };
                };
            };
            /** @description The request is malformed (HOST_REQUIRED: see the examples) */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "HOST_REQUIRED";
                    };
                };
            };
            /** @description This server is shutting down (code SHUTTING_DOWN: on a new connection another instance answers); retry after Retry-After */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    /** @description Seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "SHUTTING_DOWN";
                    };
                };
            };
        };
    };
    headLiveness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The process answers */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The request is malformed (HOST_REQUIRED: see the examples) */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description This server is shutting down (code SHUTTING_DOWN: on a new connection another instance answers); retry after Retry-After */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    /** @description Seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    getReadiness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Ready for traffic */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "status": "ok",
                     *       "message": "Ready: the database answers and has every migration of this release"
                     *     }
                     */
                    "application/json": {
                        /** @enum {string} */
                        status: "ok";
                        message: string;
                    };
                };
            };
            /** @description The request is malformed (HOST_REQUIRED: see the examples) */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "HOST_REQUIRED";
                    };
                };
            };
            /** @description An unexpected error; logged with the request id, nothing internal is shown (code INTERNAL_ERROR) */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "INTERNAL_ERROR";
                    };
                };
            };
            /** @description The database does not answer, or this server is shutting down (code SHUTTING_DOWN: on a new connection another instance answers); retry after Retry-After */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    /** @description Seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "DATABASE_UNAVAILABLE" | "DATABASE_READ_ONLY" | "DATABASE_FILE_MISSING" | "DATABASE_FILE_REPLACED" | "MIGRATIONS_PENDING" | "SHUTTING_DOWN";
                    };
                };
            };
        };
    };
    headReadiness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Ready for traffic */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The request is malformed (HOST_REQUIRED: see the examples) */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description An unexpected error; logged with the request id, nothing internal is shown (code INTERNAL_ERROR) */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The database does not answer, or this server is shutting down (code SHUTTING_DOWN: on a new connection another instance answers); retry after Retry-After */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    /** @description Seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    getUsersExport: {
        parameters: {
            query?: {
                /** @description Sort field; prefix with - for descending. Ties break by id in the same direction. */
                sort?: "id" | "-id" | "first_name" | "-first_name" | "last_name" | "-last_name" | "age" | "-age" | "email" | "-email" | "created_at" | "-created_at" | "updated_at" | "-updated_at";
                /** @description Exact first name */
                first_name?: string;
                /** @description Exact last name */
                last_name?: string;
                /** @description Minimum age, inclusive */
                min_age?: number;
                /** @description Maximum age, inclusive */
                max_age?: number;
                /** @description Exact email, case-insensitive */
                email?: string;
                /** @description Case-insensitive substring of first name, last name or email */
                q?: string;
                /** @description csv (text/csv) or ndjson (application/x-ndjson); without it, Accept decides, and CSV for *\/* */
                format?: "csv" | "ndjson";
            };
            header?: {
                /** @description text/csv or application/x-ndjson (format= wins over it) */
                accept?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The users, streamed */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    /** @description attachment, with a file name */
                    "Content-Disposition"?: string;
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example id,first_name,last_name,age,email,created_at,updated_at
                     *     1,John,Doe,30,john.doe@example.com,2026-11-26T10:13:25.123Z,2026-11-26T10:13:25.123Z
                     */
                    "text/csv": string;
                    /** @example {"id":1,"first_name":"John","last_name":"Doe","age":30,"email":"john.doe@example.com","created_at":"2026-11-26T10:13:25.123Z","updated_at":"2026-11-26T10:13:25.123Z"} */
                    "application/x-ndjson": string;
                };
            };
            /** @description The request is malformed (HOST_REQUIRED: see the examples) */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "HOST_REQUIRED";
                    };
                };
            };
            /** @description Accept allows neither text/csv nor application/x-ndjson (code NOT_ACCEPTABLE) */
            406: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "NOT_ACCEPTABLE";
                    };
                };
            };
            /** @description A value is invalid; errors lists every problem (code VALIDATION_FAILED) */
            422: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "VALIDATION_FAILED";
                    };
                };
            };
            /** @description An unexpected error; logged with the request id, nothing internal is shown (code INTERNAL_ERROR) */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "INTERNAL_ERROR";
                    };
                };
            };
            /** @description The database does not answer, or this server is shutting down (code SHUTTING_DOWN: on a new connection another instance answers); retry after Retry-After */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    /** @description Seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "DATABASE_UNAVAILABLE" | "SHUTTING_DOWN";
                    };
                };
            };
        };
    };
    headUsersExport: {
        parameters: {
            query?: {
                /** @description Sort field; prefix with - for descending. Ties break by id in the same direction. */
                sort?: "id" | "-id" | "first_name" | "-first_name" | "last_name" | "-last_name" | "age" | "-age" | "email" | "-email" | "created_at" | "-created_at" | "updated_at" | "-updated_at";
                /** @description Exact first name */
                first_name?: string;
                /** @description Exact last name */
                last_name?: string;
                /** @description Minimum age, inclusive */
                min_age?: number;
                /** @description Maximum age, inclusive */
                max_age?: number;
                /** @description Exact email, case-insensitive */
                email?: string;
                /** @description Case-insensitive substring of first name, last name or email */
                q?: string;
                /** @description csv (text/csv) or ndjson (application/x-ndjson); without it, Accept decides, and CSV for *\/* */
                format?: "csv" | "ndjson";
            };
            header?: {
                /** @description text/csv or application/x-ndjson (format= wins over it) */
                accept?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The users, streamed */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    /** @description attachment, with a file name */
                    "Content-Disposition"?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The request is malformed (HOST_REQUIRED: see the examples) */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Accept allows neither text/csv nor application/x-ndjson (code NOT_ACCEPTABLE) */
            406: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description A value is invalid; errors lists every problem (code VALIDATION_FAILED) */
            422: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description An unexpected error; logged with the request id, nothing internal is shown (code INTERNAL_ERROR) */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The database does not answer, or this server is shutting down (code SHUTTING_DOWN: on a new connection another instance answers); retry after Retry-After */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    /** @description Seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    importUsers: {
        parameters: {
            query?: {
                /** @description All or none: any refused row, and no user is created */
                atomic?: boolean;
                /** @description Skip the rows before this line (a CSV header is still read): to resume */
                from_line?: number;
            };
            header?: {
                /** @description text/csv or application/x-ndjson */
                "content-type"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example first_name,last_name,age,email
                 *     John,Doe,30,john.doe@example.com
                 *     Jane,Roe,,jane.roe@example.com
                 */
                "text/csv": string;
                /**
                 * @example {"first_name":"John","last_name":"Doe","age":30,"email":"john.doe@example.com"}
                 *     {"first_name":"Jane","last_name":"Roe","email":"jane.roe@example.com"}
                 */
                "application/x-ndjson": string;
            };
        };
        responses: {
            /** @description What was created, and why the other rows were refused */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "created": 2,
                     *       "refused": 1,
                     *       "last_line": 4,
                     *       "errors": [
                     *         {
                     *           "location": [
                     *             "line",
                     *             3,
                     *             "email"
                     *           ],
                     *           "message": "must be a valid email"
                     *         }
                     *       ]
                     *     }
                     */
                    "application/json": {
                        /** @description Users created */
                        created: number;
                        /** @description Rows refused */
                        refused: number;
                        /** @description Every row up to this line is settled (created or refused): to resume, from_line = last_line + 1 */
                        last_line: number;
                        /** @description The problems of the refused rows, located ["line", <line>, <field>], at most 100 */
                        errors: {
                            /**
                             * @description Where the problem is: the request part (body, query, path) followed by the field path
                             * @example [
                             *       "body",
                             *       "email"
                             *     ]
                             */
                            location: (string | number)[];
                            /** @example must be a valid email */
                            message: string;
                        }[];
                        /** @description How many more problems there are than errors lists */
                        errors_omitted?: number;
                    };
                };
            };
            /** @description The request is malformed (UPLOAD_INCOMPLETE, HOST_REQUIRED: see the examples) */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "UPLOAD_INCOMPLETE" | "HOST_REQUIRED";
                    };
                };
            };
            /** @description The upload is larger than IMPORT_BODY_LIMIT (code BODY_TOO_LARGE: the detail says up to which line rows are settled and how to resume), or atomic=true has more rows than it takes (code TOO_MANY_ROWS) */
            413: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "BODY_TOO_LARGE" | "TOO_MANY_ROWS";
                    };
                };
            };
            /** @description The body is not text/csv or application/x-ndjson (code UNSUPPORTED_MEDIA_TYPE) */
            415: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "UNSUPPORTED_MEDIA_TYPE";
                    };
                };
            };
            /** @description The CSV header row is invalid, or (atomic=true) rows are refused and nothing was created; errors lists the problems by line (code VALIDATION_FAILED) */
            422: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "VALIDATION_FAILED";
                    };
                };
            };
            /** @description An unexpected error; logged with the request id, nothing internal is shown (code INTERNAL_ERROR) */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "INTERNAL_ERROR";
                    };
                };
            };
            /** @description The database does not answer, or this server is shutting down (code SHUTTING_DOWN: on a new connection another instance answers); retry after Retry-After */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    /** @description Seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "DATABASE_UNAVAILABLE" | "SHUTTING_DOWN";
                    };
                };
            };
        };
    };
    listUsers: {
        parameters: {
            query?: {
                /** @description Rows to skip */
                offset?: number;
                /** @description Page size, at most 100 */
                limit?: number;
                /** @description Sort field; prefix with - for descending. Ties break by id in the same direction. */
                sort?: "id" | "-id" | "first_name" | "-first_name" | "last_name" | "-last_name" | "age" | "-age" | "email" | "-email" | "created_at" | "-created_at" | "updated_at" | "-updated_at";
                /** @description Opaque keyset cursor from a `Link: rel="next"` URL; fast at any depth. Not combinable with offset. */
                cursor?: string;
                /** @description Exact first name */
                first_name?: string;
                /** @description Exact last name */
                last_name?: string;
                /** @description Minimum age, inclusive */
                min_age?: number;
                /** @description Maximum age, inclusive */
                max_age?: number;
                /** @description Exact email, case-insensitive */
                email?: string;
                /** @description Case-insensitive substring of first name, last name or email */
                q?: string;
                /** @description Whether to send X-Total-Count (the rows matching the filters) and the last link. Default true on every list, q included. Send count=false to skip the count when the total is not needed: on PostgreSQL the total of a q that many users match costs about as much as reading those users. */
                count?: boolean;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of users */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    /** @description Rows matching the filters (absent with count=false) */
                    "X-Total-Count"?: number;
                    /** @description RFC 8288 links: first, prev, next, last, as they apply */
                    Link?: string;
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example [
                     *       {
                     *         "id": 1,
                     *         "first_name": "John",
                     *         "last_name": "Doe",
                     *         "age": 30,
                     *         "email": "john.doe@example.com",
                     *         "created_at": "2026-11-26T10:13:25.123Z",
                     *         "updated_at": "2026-11-26T10:13:25.123Z"
                     *       }
                     *     ]
                     */
                    "application/json": components["schemas"]["User"][];
                };
            };
            /** @description The request is malformed (HOST_REQUIRED: see the examples) */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "HOST_REQUIRED";
                    };
                };
            };
            /** @description A value is invalid; errors lists every problem (code VALIDATION_FAILED) */
            422: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "VALIDATION_FAILED";
                    };
                };
            };
            /** @description An unexpected error; logged with the request id, nothing internal is shown (code INTERNAL_ERROR) */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "INTERNAL_ERROR";
                    };
                };
            };
            /** @description The database does not answer, or this server is shutting down (code SHUTTING_DOWN: on a new connection another instance answers); retry after Retry-After */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    /** @description Seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "DATABASE_UNAVAILABLE" | "SHUTTING_DOWN";
                    };
                };
            };
        };
    };
    createUser: {
        parameters: {
            query?: never;
            header?: {
                /** @description A unique key per intended create (e.g. a UUID), 1-255 printable ASCII characters */
                "idempotency-key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["UserCreate"];
            };
        };
        responses: {
            /** @description The created user */
            201: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    /** @description The URL of the new user, /users/{id} */
                    Location?: string;
                    /** @description Strong validator of this representation, for If-Match / If-None-Match */
                    ETag?: string;
                    /** @description "true" when this is the stored response of a retry */
                    "Idempotent-Replayed"?: string;
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": 1,
                     *       "first_name": "John",
                     *       "last_name": "Doe",
                     *       "age": 30,
                     *       "email": "john.doe@example.com",
                     *       "created_at": "2026-11-26T10:13:25.123Z",
                     *       "updated_at": "2026-11-26T10:13:25.123Z"
                     *     }
                     */
                    "application/json": components["schemas"]["User"];
                };
            };
            /** @description The request is malformed (INVALID_JSON, BAD_REQUEST, HOST_REQUIRED: see the examples) */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "INVALID_JSON" | "BAD_REQUEST" | "HOST_REQUIRED";
                    };
                };
            };
            /** @description Another user has this email, compared case-insensitively (code EMAIL_TAKEN) */
            409: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "EMAIL_TAKEN";
                    };
                };
            };
            /** @description The body is larger than the limit, 1 MiB by default (code BODY_TOO_LARGE) */
            413: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "BODY_TOO_LARGE";
                    };
                };
            };
            /** @description The body is not application/json (code UNSUPPORTED_MEDIA_TYPE) */
            415: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "UNSUPPORTED_MEDIA_TYPE";
                    };
                };
            };
            /** @description A value is invalid; errors lists every problem (code VALIDATION_FAILED; code IDEMPOTENCY_KEY_REUSED: This Idempotency-Key was already used for a different request body.) */
            422: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "VALIDATION_FAILED" | "IDEMPOTENCY_KEY_REUSED";
                    };
                };
            };
            /** @description An unexpected error; logged with the request id, nothing internal is shown (code INTERNAL_ERROR) */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "INTERNAL_ERROR";
                    };
                };
            };
            /** @description The database does not answer, or this server is shutting down (code SHUTTING_DOWN: on a new connection another instance answers); retry after Retry-After */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    /** @description Seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "DATABASE_UNAVAILABLE" | "SHUTTING_DOWN";
                    };
                };
            };
        };
    };
    headUsers: {
        parameters: {
            query?: {
                /** @description Rows to skip */
                offset?: number;
                /** @description Page size, at most 100 */
                limit?: number;
                /** @description Sort field; prefix with - for descending. Ties break by id in the same direction. */
                sort?: "id" | "-id" | "first_name" | "-first_name" | "last_name" | "-last_name" | "age" | "-age" | "email" | "-email" | "created_at" | "-created_at" | "updated_at" | "-updated_at";
                /** @description Opaque keyset cursor from a `Link: rel="next"` URL; fast at any depth. Not combinable with offset. */
                cursor?: string;
                /** @description Exact first name */
                first_name?: string;
                /** @description Exact last name */
                last_name?: string;
                /** @description Minimum age, inclusive */
                min_age?: number;
                /** @description Maximum age, inclusive */
                max_age?: number;
                /** @description Exact email, case-insensitive */
                email?: string;
                /** @description Case-insensitive substring of first name, last name or email */
                q?: string;
                /** @description Whether to send X-Total-Count (the rows matching the filters) and the last link. Default true on every list, q included. Send count=false to skip the count when the total is not needed: on PostgreSQL the total of a q that many users match costs about as much as reading those users. */
                count?: boolean;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of users */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    /** @description Rows matching the filters (absent with count=false) */
                    "X-Total-Count"?: number;
                    /** @description RFC 8288 links: first, prev, next, last, as they apply */
                    Link?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The request is malformed (HOST_REQUIRED: see the examples) */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description A value is invalid; errors lists every problem (code VALIDATION_FAILED) */
            422: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description An unexpected error; logged with the request id, nothing internal is shown (code INTERNAL_ERROR) */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The database does not answer, or this server is shutting down (code SHUTTING_DOWN: on a new connection another instance answers); retry after Retry-After */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    /** @description Seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    getUser: {
        parameters: {
            query?: never;
            header?: {
                /** @description An ETag from an earlier GET: 304 if the user is unchanged */
                "if-none-match"?: string;
            };
            path: {
                /**
                 * @description The user id
                 * @example 1
                 */
                user_id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The user */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    /** @description Strong validator of this representation, for If-Match / If-None-Match */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": 1,
                     *       "first_name": "John",
                     *       "last_name": "Doe",
                     *       "age": 30,
                     *       "email": "john.doe@example.com",
                     *       "created_at": "2026-11-26T10:13:25.123Z",
                     *       "updated_at": "2026-11-26T10:13:25.123Z"
                     *     }
                     */
                    "application/json": components["schemas"]["User"];
                };
            };
            /** @description Not modified since the ETag in If-None-Match: no body */
            304: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    /** @description Strong validator of this representation, for If-Match / If-None-Match */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The request is malformed (BAD_REQUEST, HOST_REQUIRED: see the examples) */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "BAD_REQUEST" | "HOST_REQUIRED";
                    };
                };
            };
            /** @description No user has this id (code USER_NOT_FOUND, detail "User not found") */
            404: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "USER_NOT_FOUND";
                    };
                };
            };
            /** @description A value is invalid; errors lists every problem (code VALIDATION_FAILED) */
            422: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "VALIDATION_FAILED";
                    };
                };
            };
            /** @description An unexpected error; logged with the request id, nothing internal is shown (code INTERNAL_ERROR) */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "INTERNAL_ERROR";
                    };
                };
            };
            /** @description The database does not answer, or this server is shutting down (code SHUTTING_DOWN: on a new connection another instance answers); retry after Retry-After */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    /** @description Seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "DATABASE_UNAVAILABLE" | "SHUTTING_DOWN";
                    };
                };
            };
        };
    };
    deleteUser: {
        parameters: {
            query?: never;
            header?: {
                /** @description Change only if the user is still at this ETag (from a GET); 412 otherwise. Prevents lost updates. */
                "if-match"?: string;
            };
            path: {
                /**
                 * @description The user id
                 * @example 1
                 */
                user_id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The user was deleted */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "ok": true
                     *     }
                     */
                    "application/json": {
                        /** @enum {boolean} */
                        ok: true;
                    };
                };
            };
            /** @description The request is malformed (BAD_REQUEST, HOST_REQUIRED: see the examples) */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "BAD_REQUEST" | "HOST_REQUIRED";
                    };
                };
            };
            /** @description No user has this id (code USER_NOT_FOUND, detail "User not found") */
            404: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "USER_NOT_FOUND";
                    };
                };
            };
            /** @description If-Match names a version that is no longer current; nothing was changed (code PRECONDITION_FAILED) */
            412: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "PRECONDITION_FAILED";
                    };
                };
            };
            /** @description A value is invalid; errors lists every problem (code VALIDATION_FAILED) */
            422: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "VALIDATION_FAILED";
                    };
                };
            };
            /** @description An unexpected error; logged with the request id, nothing internal is shown (code INTERNAL_ERROR) */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "INTERNAL_ERROR";
                    };
                };
            };
            /** @description The database does not answer, or this server is shutting down (code SHUTTING_DOWN: on a new connection another instance answers); retry after Retry-After */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    /** @description Seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "DATABASE_UNAVAILABLE" | "SHUTTING_DOWN";
                    };
                };
            };
        };
    };
    headUser: {
        parameters: {
            query?: never;
            header?: {
                /** @description An ETag from an earlier GET: 304 if the user is unchanged */
                "if-none-match"?: string;
            };
            path: {
                /**
                 * @description The user id
                 * @example 1
                 */
                user_id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The user */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    /** @description Strong validator of this representation, for If-Match / If-None-Match */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Not modified since the ETag in If-None-Match: no body */
            304: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    /** @description Strong validator of this representation, for If-Match / If-None-Match */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The request is malformed (BAD_REQUEST, HOST_REQUIRED: see the examples) */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description No user has this id (code USER_NOT_FOUND, detail "User not found") */
            404: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description A value is invalid; errors lists every problem (code VALIDATION_FAILED) */
            422: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description An unexpected error; logged with the request id, nothing internal is shown (code INTERNAL_ERROR) */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The database does not answer, or this server is shutting down (code SHUTTING_DOWN: on a new connection another instance answers); retry after Retry-After */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    /** @description Seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    updateUser: {
        parameters: {
            query?: never;
            header?: {
                /** @description Change only if the user is still at this ETag (from a GET); 412 otherwise. Prevents lost updates. */
                "if-match"?: string;
            };
            path: {
                /**
                 * @description The user id
                 * @example 1
                 */
                user_id: number;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["UserUpdate"];
            };
        };
        responses: {
            /** @description The updated user */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    /** @description Strong validator of this representation, for If-Match / If-None-Match */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": 1,
                     *       "first_name": "John",
                     *       "last_name": "Doe",
                     *       "age": 30,
                     *       "email": "john.doe@example.com",
                     *       "created_at": "2026-11-26T10:13:25.123Z",
                     *       "updated_at": "2026-11-26T10:13:25.123Z"
                     *     }
                     */
                    "application/json": components["schemas"]["User"];
                };
            };
            /** @description The request is malformed (INVALID_JSON, BAD_REQUEST, BAD_REQUEST, HOST_REQUIRED: see the examples) */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "INVALID_JSON" | "BAD_REQUEST" | "HOST_REQUIRED";
                    };
                };
            };
            /** @description No user has this id (code USER_NOT_FOUND, detail "User not found") */
            404: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "USER_NOT_FOUND";
                    };
                };
            };
            /** @description Another user has this email, compared case-insensitively (code EMAIL_TAKEN) */
            409: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "EMAIL_TAKEN";
                    };
                };
            };
            /** @description If-Match names a version that is no longer current; nothing was changed (code PRECONDITION_FAILED) */
            412: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "PRECONDITION_FAILED";
                    };
                };
            };
            /** @description The body is larger than the limit, 1 MiB by default (code BODY_TOO_LARGE) */
            413: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "BODY_TOO_LARGE";
                    };
                };
            };
            /** @description The body is not application/json (code UNSUPPORTED_MEDIA_TYPE) */
            415: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "UNSUPPORTED_MEDIA_TYPE";
                    };
                };
            };
            /** @description A value is invalid; errors lists every problem (code VALIDATION_FAILED) */
            422: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "VALIDATION_FAILED";
                    };
                };
            };
            /** @description An unexpected error; logged with the request id, nothing internal is shown (code INTERNAL_ERROR) */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "INTERNAL_ERROR";
                    };
                };
            };
            /** @description The database does not answer, or this server is shutting down (code SHUTTING_DOWN: on a new connection another instance answers); retry after Retry-After */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    traceparent: components["headers"]["traceparent"];
                    /** @description Seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @enum {string} */
                        code: "DATABASE_UNAVAILABLE" | "SHUTTING_DOWN";
                    };
                };
            };
        };
    };
}
