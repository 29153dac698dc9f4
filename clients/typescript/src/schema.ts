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
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The request is malformed (HOST_REQUIRED: see the examples) */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description This server is shutting down (code SHUTTING_DOWN: on a new connection another instance answers); retry after Retry-After */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
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
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The request is malformed (HOST_REQUIRED: see the examples) */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description An unexpected error; logged with the request id, nothing internal is shown (code INTERNAL_ERROR) */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The database does not answer, or this server is shutting down (code SHUTTING_DOWN: on a new connection another instance answers); retry after Retry-After */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
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
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The request is malformed (HOST_REQUIRED: see the examples) */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description This server is shutting down (code SHUTTING_DOWN: on a new connection another instance answers); retry after Retry-After */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
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
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The request is malformed (HOST_REQUIRED: see the examples) */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description An unexpected error; logged with the request id, nothing internal is shown (code INTERNAL_ERROR) */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The database does not answer, or this server is shutting down (code SHUTTING_DOWN: on a new connection another instance answers); retry after Retry-After */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    /** @description Seconds to wait before retrying */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content?: never;
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
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description A value is invalid; errors lists every problem (code VALIDATION_FAILED) */
            422: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description An unexpected error; logged with the request id, nothing internal is shown (code INTERNAL_ERROR) */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The database does not answer, or this server is shutting down (code SHUTTING_DOWN: on a new connection another instance answers); retry after Retry-After */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
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
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description No user has this id (code USER_NOT_FOUND, detail "User not found") */
            404: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description A value is invalid; errors lists every problem (code VALIDATION_FAILED) */
            422: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description An unexpected error; logged with the request id, nothing internal is shown (code INTERNAL_ERROR) */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The database does not answer, or this server is shutting down (code SHUTTING_DOWN: on a new connection another instance answers); retry after Retry-After */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
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
