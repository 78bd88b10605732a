// Generated from openapi/openapi.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the document, then regenerate; `npm run check-generated`
// (run by test.sh) and go test ./client/ fail while this file is stale.
// openapi.json sha256 37804a9038eacbe147508938188cc8f2e97f32e7b555475732ada401c8906b69

export interface paths {
    "/api/experiment-enrollments": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Enroll the token's user
         * @description The decision for the token's `sub` in one experiment: whether the user takes part and in which group, decided once and sticky. The hot path: its answer comes within the enrollment deadline (50 ms by default) or is a 503 with a `fallback`. The token is checked before the body: a request without a valid token is a 401 whatever its body. The multi-experiment form (`experiment_ids`, up to 50) answers every id in order, each as the single form would or with an error entry for that id.
         */
        post: operations["enroll"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/experiment-create": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create an experiment
         * @description Creates a running experiment. Every string stored must be text; a bad field is refused, naming it, before anything is written.
         */
        post: operations["createExperiment"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/experiments": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List experiments
         * @description A page of experiments in id order, each with its stats. An experiment whose stored configuration is corrupt is listed with only its id and `problem`. With `sort`, `order`, `offset`, `status` or `q`: the experiments sorted and filtered, paged by `offset`, with `total` (what the web console lists).
         */
        get: operations["listExperiments"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        /**
         * List experiments (headers only)
         * @description GET without the body.
         */
        head: operations["listExperimentsHead"];
        patch?: never;
        trace?: never;
    };
    "/api/experiments/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The experiment's id. One that is not a valid experiment id (see `ExperimentID`) is answered 404 `not_found`, like an unknown one.
                 * @example f380739f-62f3-4316-8acf-93ed5744cb9e
                 */
                id: components["parameters"]["ExperimentID"];
            };
            cookie?: never;
        };
        /**
         * Read an experiment
         * @description Its configuration (without its salt), status, members per group and remaining sample. A stored configuration that is corrupt is a 500.
         */
        get: operations["getExperiment"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        /**
         * Read an experiment (headers only)
         * @description GET without the body.
         */
        head: operations["getExperimentHead"];
        /**
         * Change an experiment
         * @description Changes its status, sampling probability, maximum sample size, group probabilities or winner (rollout); the admin's name is recorded as `updated_by`. The id, group names, eligibility, layer and salt never change.
         */
        patch: operations["updateExperiment"];
        trace?: never;
    };
    "/api/experiments/{id}/changes": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The change history of an experiment
         * @description Every version of the experiment's configuration from the warehouse's `experiment_changes` table (read over the read-only results connection, `-results-warehouse-url`): who changed it, when, and what changed, in words. Empty until the exporter has written it.
         */
        get: operations["getExperimentChanges"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/experiments/{id}/daily-enrollments": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Enrollments per day
         * @description The experiment's enrollments in the warehouse per UTC day and group (the web console's chart).
         */
        get: operations["getDailyEnrollments"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/experiments/{id}/results": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The results of each metric
         * @description Analyses every metric of the metrics file assignd was started with (`-metrics-file`) on the warehouse, read-only: sequential testing while the experiment runs, fixed-horizon once stopped; the goal metrics' p-values adjusted together by the file's correction. Only the metrics file's queries run, never SQL from a request.
         */
        get: operations["getExperimentResults"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/experiments/{id}/sample-users": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Send the demo's sample users (embedded demo mode only)
         * @description Only in assignd's embedded demo mode (no `-redis-url`; elsewhere this path is a 404): the sample users of `-demo-users` (examples/shipping-address/users.csv) reach the experiment's screen and are enrolled in process, as `assignctl demo-enroll` does through the API, and the orders they then place are written to orders.csv beside the DuckDB warehouse, where the demo metrics file reads them. For a first run to walk from creation to rollout in the console alone.
         */
        post: operations["sendSampleUsers"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/layers/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The layer's name. One that is not a valid layer name (see `Layer`) is answered 404 `no_route`; an unknown valid one has no slots.
                 * @example checkout
                 */
                name: components["parameters"]["LayerName"];
            };
            cookie?: never;
        };
        /**
         * Read a layer's traffic split
         * @description How the layer's 1,000 traffic slots are split between its experiments taking traffic.
         */
        get: operations["getLayer"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        /**
         * Read a layer's traffic split (headers only)
         * @description GET without the body.
         */
        head: operations["getLayerHead"];
        patch?: never;
        trace?: never;
    };
    "/api/plan": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Plan an experiment's sample
         * @description Users needed per group and in total (before and after sampling) for an effect, or the effect a `maximum_sample_size` can detect; the same computation as `assignctl plan`, no store involved. Any other parameter, one given twice, a value that is not a number, or one the computation refuses is a 400 naming the parameter in `field`.
         */
        get: operations["plan"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        /**
         * Plan an experiment's sample (headers only)
         * @description GET without the body.
         */
        head: operations["planHead"];
        patch?: never;
        trace?: never;
    };
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Liveness
         * @description 200 while the process serves requests.
         */
        get: operations["healthz"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        /**
         * Liveness (headers only)
         * @description GET without the body.
         */
        head: operations["healthzHead"];
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
         * Readiness
         * @description 200 when Redis and the scripts are ready (status `ready`, or `degraded` while something fails that does not stop members from being answered); 503 otherwise, so that a load balancer stops sending enrollments that could only fail. Answers within 2 s.
         */
        get: operations["readyz"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        /**
         * Readiness (headers only)
         * @description GET without the body.
         */
        head: operations["readyzHead"];
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Prometheus metrics
         * @description The Prometheus text exposition; served only when assignd has a metrics registry (it always does), a 404 `no_route` otherwise.
         */
        get: operations["metrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * This document
         * @description The API's OpenAPI 3.1 document.
         */
        get: operations["openapi"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        /**
         * This document (headers only)
         * @description GET without the body.
         */
        head: operations["openapiHead"];
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /**
         * @description The machine-readable error code. Each code has one HTTP status:
         *
         *     | code | status | meaning |
         *     | --- | --- | --- |
         *     | `invalid` | 400 | the request breaks a validation rule (`field` names the field at fault when there is one) |
         *     | `bad_request` | 400 | the HTTP request is malformed |
         *     | `unauthorized` | 401 | missing or bad credentials |
         *     | `not_found` | 404 | no such experiment |
         *     | `no_route` | 404 | no such endpoint (or layer) |
         *     | `method_not_allowed` | 405 | the path exists, the method does not (`Allow` lists the methods) |
         *     | `timeout` | 408 | the client was too slow to send its request |
         *     | `conflict` | 409 | the experiment already exists, or is being changed concurrently |
         *     | `too_large` | 413 | the body is over the size limit (64 KiB by default) |
         *     | `unsupported_media_type` | 415 | the body is not `application/json` |
         *     | `header_too_large` | 431 | the request headers are over the read buffer |
         *     | `internal` | 500 | a bug or an unexpected failure |
         *     | `unavailable` | 503 | Redis is down or too slow, or the server is at its connection limit |
         * @enum {string}
         */
        ErrorCode: "invalid" | "bad_request" | "unauthorized" | "not_found" | "no_route" | "method_not_allowed" | "timeout" | "conflict" | "too_large" | "unsupported_media_type" | "header_too_large" | "internal" | "unavailable";
        /** @description THE error body of every route. */
        Error: {
            error: {
                code: components["schemas"]["ErrorCode"];
                /** @description A message for humans; internal details never appear in it. */
                message: string;
                /** @description The field at fault of a 400 `invalid`: a body field (`maximum_sample_size`, `groups[1].group_name`, `eligibility[0].in[2]`), a query parameter (`limit`, `baseline`), `sub` (the token's subject is not text) or a claim an eligibility rule reads. Absent when no one field is at fault. */
                field?: string;
                /**
                 * @description Present on an enrollment's 5xx and on a 503 at the connection limit: the client shows the user the default experience.
                 * @constant
                 */
                fallback?: "default_experience";
            };
        };
        /**
         * @description Letters, digits, `-`, `_` and `.`, starting with a letter or digit, at most 64 characters (UUIDs fit).
         * @example f380739f-62f3-4316-8acf-93ed5744cb9e
         */
        ExperimentID: string;
        /** @description A set of mutually exclusive experiments sharing 1,000 traffic slots; the same alphabet as an experiment id. Empty or absent: no layer. */
        Layer: string;
        /** @description Text as `assign.ValidateText` accepts it: valid UTF-8 without control characters (C0, DEL, C1), U+2028, U+2029 or Unicode format characters other than ZWJ and ZWNJ. */
        Text: string;
        /** @description A JSON scalar compared with a claim; a string must be text. */
        Scalar: string | number | boolean;
        /**
         * @description Only a running experiment takes new members; members keep their group whatever the status.
         * @enum {string}
         */
        Status: "running" | "paused" | "stopped";
        Group: {
            /** @description Unique in the experiment, not blank, text, at most 64 bytes. */
            group_name: components["schemas"]["Text"];
            /** @description The group's share; the groups' shares sum to 1 (within 1e-9). Absent: 0. */
            probability_of_falling_in?: number;
        };
        /** @description An eligibility condition on a claim of the user's token; a user is eligible when every rule holds. Exactly one of `equals`, `not_equals` and `in` is set (a `null` counts as not set). */
        Rule: {
            claim: components["schemas"]["Text"];
            equals?: components["schemas"]["Scalar"];
            not_equals?: components["schemas"]["Scalar"];
            in?: components["schemas"]["Scalar"][];
        };
        /** @description Field names must match exactly; unknown fields are refused (400 naming the field). */
        CreateExperimentRequest: {
            /** @description See `ExperimentID`; absent or empty, the server generates a UUID. */
            experiment_id?: string;
            /** @description The most users enrolled; then new users get `sample_full`. */
            maximum_sample_size: number;
            /**
             * @description The share of eligible users who take part.
             * @default 1
             */
            sampling_probability?: number;
            groups: components["schemas"]["Group"][];
            eligibility?: components["schemas"]["Rule"][];
            layer?: components["schemas"]["Layer"];
            /** @description New users are taken from this second on (`not_running` before), on Redis's clock; absent: at once. */
            start_at?: components["schemas"]["ScheduleTime"];
            /** @description From this second on new users get `not_running` (members keep their group), on Redis's clock; must be after `start_at`; absent: no end. */
            end_at?: components["schemas"]["ScheduleTime"];
            /** @description QA overrides: user id (as a token's `sub`, text of at most 256 bytes) → group name, at most 500. Such a user is answered that group with `"override": true` in every status and schedule, whatever their eligibility, layer slot, membership, the rollout or the cap, and is never recorded, counted or capped as a member; the answer reaches the warehouse flagged (`enrollments.override`) and the analysis leaves it out. */
            overrides?: {
                [key: string]: string;
            };
        };
        ExperimentCreated: {
            experiment_id: components["schemas"]["ExperimentID"];
        };
        /** @description The fields to change (at least one); the others stay as they are. Group names and the winner are checked against the experiment (400). */
        ExperimentUpdate: {
            status?: components["schemas"]["Status"];
            sampling_probability?: number;
            maximum_sample_size?: number;
            /** @description New probabilities of the experiment's groups, by name. */
            groups?: components["schemas"]["Group"][];
            /** @description The group every user gets (rollout); `""` undoes it. */
            winner?: components["schemas"]["Text"];
            /** @description Set the schedule's start, or `null` to clear it. */
            start_at?: components["schemas"]["ScheduleTime"] | null;
            /** @description Set the schedule's end, or `null` to clear it; must stay after `start_at`. */
            end_at?: components["schemas"]["ScheduleTime"] | null;
            /** @description Sets (a group name) or removes (`null`) the QA override of each user named; the others are kept. The experiment holds at most 500. */
            overrides?: {
                [key: string]: string | null;
            };
        };
        ExperimentStats: {
            enrolled: number;
            /** @description Users that can still be enrolled before `maximum_sample_size`. */
            remaining: number;
            /** @description Members per group name. */
            per_group: {
                [key: string]: number;
            };
        };
        Experiment: {
            experiment_id: components["schemas"]["ExperimentID"];
            maximum_sample_size: number;
            sampling_probability: number;
            groups: WithRequired<components["schemas"]["Group"], "group_name" | "probability_of_falling_in">[];
            eligibility?: components["schemas"]["Rule"][];
            layer?: components["schemas"]["Layer"];
            status: components["schemas"]["Status"];
            /**
             * @description What a new user meets now, on Redis's clock: `status`, except `scheduled` (running, before `start_at`) and `ended` (running or paused, from `end_at` on). The schedule never changes `status` itself, nor the change history.
             * @enum {string}
             */
            effective_status?: "running" | "paused" | "stopped" | "scheduled" | "ended";
            /** @description The group rolled out to everyone; absent before a rollout. */
            winner?: string;
            /**
             * Format: date-time
             * @description The schedule's start (absent: none).
             */
            start_at?: string;
            /**
             * Format: date-time
             * @description The schedule's end, exclusive (absent: none).
             */
            end_at?: string;
            /** @description The QA overrides (user id → group); in `GET /api/experiments/{id}` and a PATCH's answer only, never in listings. */
            overrides?: {
                [key: string]: string;
            };
            /** @description Counts configuration changes, 1 at creation. */
            version: number;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            updated_at: string;
            /** @description The name of the admin who made the last change. */
            updated_by?: string;
            stats?: components["schemas"]["ExperimentStats"];
        };
        /** @description An experiment of a listing whose stored configuration cannot be read: only its id and why. */
        ExperimentProblem: {
            experiment_id: string;
            problem: string;
        };
        ExperimentList: {
            experiments: (components["schemas"]["Experiment"] | components["schemas"]["ExperimentProblem"])[];
            /** @description The `after` of the next page; empty on the last page, and always empty in a sorted listing (which pages by `offset`). */
            next: string;
            /** @description Sorted listings only: the experiments matching the filters, all pages together. */
            total?: number;
            /** @description Sorted listings only: the offset of this page. */
            offset?: number;
        };
        EnrollmentRequest: {
            experiment_id: components["schemas"]["ExperimentID"];
            /**
             * @description The client's platform, recorded with the enrollment and exported (`enrollments.platform`); eligibility rules on the claim `platform` see it. A `platform` claim of the token wins over it (the identity provider signed it); a claim or a field of another value is a 400 naming `platform`. Absent: none recorded (unless the token has the claim).
             * @enum {string}
             */
            platform?: "web" | "ios" | "android" | "other";
        };
        /** @description The decision, sticky for the user. */
        Enrollment: {
            experiment_id: components["schemas"]["ExperimentID"];
            /** @constant */
            enrolled: true;
            group_name: string;
            /**
             * @description Present when the group is a QA override's: the user is not a member and is not counted (see `Experiment.overrides`).
             * @constant
             */
            override?: true;
        } | {
            experiment_id: components["schemas"]["ExperimentID"];
            /** @constant */
            enrolled: false;
            /**
             * @description `not_sampled`: outside the sampling probability; `sample_full`: the maximum sample size is reached; `not_eligible`: an eligibility rule fails, or the user's layer slot belongs to another experiment; `not_running`: paused or stopped, or outside the schedule (before `start_at`, from `end_at` on).
             * @enum {string}
             */
            reason: "not_sampled" | "sample_full" | "not_eligible" | "not_running";
        };
        LayerSplit: {
            layer: string;
            /** @description Slots offered to each experiment id; they sum to 1,000 while any experiment of the layer takes traffic, else the object is empty. */
            slots: {
                [key: string]: number;
            };
        };
        /** @description null when undefined. */
        NullableNumber: number | null;
        /** @description Users are enrolled users (after sampling); the `before_sampling` counts are those who must reach the screen and be eligible. Counts are rounded up to whole users. */
        Plan: {
            method: string;
            /** @enum {string} */
            outcome: "binary" | "numeric";
            baseline: number;
            sd: components["schemas"]["NullableNumber"];
            alpha: number;
            /** @description alpha / (groups - 1). */
            comparison_alpha: number;
            power: number;
            sampling_probability: number;
            /** @description The absolute minimum detectable effect, given or computed. */
            effect: components["schemas"]["NullableNumber"];
            /** @description The effect as a fraction of the baseline; null without one. */
            relative_effect: components["schemas"]["NullableNumber"];
            /** @description The treatment's rate or mean the effect stands for. */
            target: components["schemas"]["NullableNumber"];
            /** @description True when `maximum_sample_size` was given and the effect computed. */
            reverse: boolean;
            groups: components["schemas"]["PlanGroup"][];
            /** @description The maximum sample size to set (enrolled users). */
            total: number;
            total_before_sampling: number;
            exact_total: number;
            /** @description Present with `method=sequential`: the sequential plan against the fixed-horizon plan of the same question (the same effect, or the same cap). */
            sequential?: {
                /** @description The total the mixture is tuned for: `total`, the cap to set. */
                horizon: number;
                /** @description The confidence sequence's half-width at the horizon, in standard errors, for the comparison that sets the total or effect (the fixed-horizon test's is z(1 - comparison_alpha/2)). */
                boundary: number;
                /** @description The fixed-horizon plan's total for the same effect (the cap itself in a reverse plan). */
                fixed_total: number;
                fixed_exact_total: number;
                /** @description The effect the fixed-horizon test detects (the effect itself in a forward plan). */
                fixed_effect: components["schemas"]["NullableNumber"];
                /** @description exact_total / fixed_exact_total in a forward plan, effect / fixed_effect in a reverse one. */
                ratio: components["schemas"]["NullableNumber"];
            };
        };
        PlanGroup: {
            /** @description 0 is the control. */
            index: number;
            probability: number;
            users: number;
            before_sampling: number;
            exact_users: number;
        };
        Health: {
            /** @constant */
            status: "ok";
        };
        Readiness: {
            /**
             * @description `ready` and `degraded` (something fails, such as Redis out of memory refusing new enrollments, but members are answered) with 200; `unavailable` with 503.
             * @enum {string}
             */
            status: "ready" | "degraded" | "unavailable";
            /** @description What fails, when degraded or unavailable. */
            error?: string;
            /** @description Facts that do not decide readiness; assignd reports its exporter's backlog here. */
            details?: {
                exporter?: {
                    rows_exported?: number;
                    backlog_entries?: number;
                    pending_entries?: number;
                    oldest_pending_age_seconds?: number;
                    dead_letters?: number;
                    last_dead_letter?: {
                        stream?: string;
                        entry_id?: string;
                        reason?: string;
                        error?: string;
                        /** Format: date-time */
                        at?: string;
                    };
                    error?: string;
                };
            };
        };
        /** @description The multi-experiment form: one user's decisions in several experiments at once (a screen under several tests), in one Redis round trip per shard. */
        EnrollmentBatchRequest: {
            /** @description 1 to 50 distinct experiment ids; a malformed or unknown one gets an error entry, the others their answers. */
            experiment_ids: string[];
            /**
             * @description The client's platform, recorded with the enrollment and exported (`enrollments.platform`); eligibility rules on the claim `platform` see it. A `platform` claim of the token wins over it (the identity provider signed it); a claim or a field of another value is a 400 naming `platform`. Absent: none recorded (unless the token has the claim).
             * @enum {string}
             */
            platform?: "web" | "ios" | "android" | "other";
        };
        /**
         * EnrollmentError
         * @description This experiment's error: the same object as a single call's error body (`not_found`, `invalid`, or `unavailable` with `fallback`).
         */
        EnrollmentBatchError: {
            experiment_id: string;
            error: {
                code: components["schemas"]["ErrorCode"];
                /** @description A message for humans; internal details never appear in it. */
                message: string;
                /** @description The field at fault of a 400 `invalid`: a body field (`maximum_sample_size`, `groups[1].group_name`, `eligibility[0].in[2]`), a query parameter (`limit`, `baseline`), `sub` (the token's subject is not text) or a claim an eligibility rule reads. Absent when no one field is at fault. */
                field?: string;
                /**
                 * @description Present on an enrollment's 5xx and on a 503 at the connection limit: the client shows the user the default experience.
                 * @constant
                 */
                fallback?: "default_experience";
            };
        };
        /** @description One entry per requested id, in the order asked: the single form's answer, or an error entry. */
        EnrollmentBatch: {
            enrollments: (components["schemas"]["Enrollment"] | components["schemas"]["EnrollmentBatchError"])[];
        };
        /**
         * Format: date-time
         * @description An RFC 3339 time, kept to the second (a fraction is dropped), between 1970 and 9999.
         */
        ScheduleTime: string;
        ExperimentChange: {
            version: number;
            /** Format: date-time */
            changed_at: string;
            /** @description The name of the admin who made the change (the name given with their -admin-token). */
            changed_by: string;
            status: components["schemas"]["Status"];
            sampling_probability: number;
            maximum_sample_size: number;
            groups: components["schemas"]["Group"][];
            eligibility: components["schemas"]["Rule"][];
            /** @description Empty for none. */
            layer: string;
            /** @description The group rolled out; empty for none. */
            winner: string;
            /**
             * Format: date-time
             * @description The schedule's start; absent for none.
             */
            start_at?: string;
            /**
             * Format: date-time
             * @description The schedule's end; absent for none.
             */
            end_at?: string;
            /** @description What this version changed from the one before, in words (the first known version: the whole configuration). */
            what: string[];
        };
        ExperimentChanges: {
            experiment_id: components["schemas"]["ExperimentID"];
            /** @description Oldest first; empty until the exporter has written the experiment. */
            changes: components["schemas"]["ExperimentChange"][];
        };
        DailyEnrollments: {
            experiment_id: components["schemas"]["ExperimentID"];
            /** @description Every UTC day from the first to the last enrollment (days without any have zeros), at most the last 366. */
            days: {
                /** Format: date */
                day: string;
                enrolled: number;
                per_group: {
                    [key: string]: number;
                };
            }[];
        };
        /** @description results.MetricsResult: the analysis of each metric of the metrics file, as `assignctl results --metrics --output json` prints it. Each metric carries its definition (`metric`) and either `error` or the analysis (results.Result with the stats report at the top level: `groups`, `comparisons` with `difference_ci` and `sequential.ci`, `srm`, `method`, `warnings`, each comparison's `verdict`). */
        ExperimentResults: {
            experiment_id: components["schemas"]["ExperimentID"];
            /** @enum {string} */
            correction: "holm" | "benjamini-hochberg" | "none";
            goal_comparisons?: number;
            metrics: {
                metric: {
                    name: string;
                    /** @enum {string} */
                    type: "binary" | "numeric";
                    role?: string;
                    direction?: string;
                };
                error?: string;
                harmed?: boolean;
                warnings?: string[];
                comparisons?: Record<string, never>[];
                groups?: Record<string, never>[];
                srm?: Record<string, never>;
            }[];
        };
        SampleUsersSummary: {
            experiment_id: components["schemas"]["ExperimentID"];
            /** @description Sample users sent. */
            users: number;
            /** @description Members per group. */
            enrolled: {
                [key: string]: number;
            };
            /** @description Users not enrolled, per reason. */
            not_enrolled: {
                [key: string]: number;
            };
            /** @description Orders the users placed, written to orders.csv. */
            orders: number;
        };
    };
    responses: {
        /** @description The request breaks a validation rule (`invalid`, with `field` naming the field at fault when there is one), or its HTTP framing is malformed (`bad_request`). */
        Invalid: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "code": "invalid",
                 *         "message": "maximum_sample_size must be a positive integer",
                 *         "field": "maximum_sample_size"
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "invalid" | "bad_request";
                    };
                };
            };
        };
        /** @description No admin token, or one that is not valid. */
        AdminUnauthorized: {
            headers: {
                "WWW-Authenticate": components["headers"]["WWWAuthenticateAdmin"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "code": "unauthorized",
                 *         "message": "An admin Bearer token is required."
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "unauthorized";
                    };
                };
            };
        };
        /** @description No such experiment. */
        ExperimentNotFound: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "code": "not_found",
                 *         "message": "Experiment not found."
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "not_found";
                    };
                };
            };
        };
        /** @description The body is over the size limit (64 KiB by default). */
        TooLarge: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "code": "too_large",
                 *         "message": "The request body is too large."
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "too_large";
                    };
                };
            };
        };
        /** @description The body's Content-Type is not application/json (any parameters and case are accepted). */
        UnsupportedMediaType: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "code": "unsupported_media_type",
                 *         "message": "Content-Type must be application/json."
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "unsupported_media_type";
                    };
                };
            };
        };
        /** @description A bug or an unexpected failure, such as a stored configuration that cannot be read. */
        Internal: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "code": "internal",
                 *         "message": "Internal error."
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "internal";
                    };
                };
            };
        };
        /** @description Redis is down or did not answer within the deadline, or the server is at its connection limit (then with `Retry-After` and the connection closed). */
        Unavailable: {
            headers: {
                "Retry-After": components["headers"]["RetryAfter"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "code": "unavailable",
                 *         "message": "The store is unavailable."
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "unavailable";
                    };
                };
            };
        };
        /** @description The server is at its connection limit: `Retry-After` is sent, the connection closed. */
        AtConnectionLimit: {
            headers: {
                "Retry-After": components["headers"]["RetryAfter"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "code": "unavailable",
                 *         "message": "The server is at its connection limit; try again later.",
                 *         "fallback": "default_experience"
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "unavailable";
                        /** @constant */
                        fallback: "default_experience";
                    };
                };
            };
        };
        /** @description No such endpoint: a path the server does not route (`no_route`), on any method. */
        NoRoute: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "code": "no_route",
                 *         "message": "No such endpoint."
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "no_route";
                    };
                };
            };
        };
        /** @description The path exists but does not answer the method: `Allow` lists those it answers. */
        MethodNotAllowed: {
            headers: {
                Allow: components["headers"]["Allow"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "code": "method_not_allowed",
                 *         "message": "Method not allowed; allowed: GET, HEAD."
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "method_not_allowed";
                    };
                };
            };
        };
        /** @description The client did not send its request in time (the server's read timeout, 5 s by default); on any path. */
        RequestTimeout: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "timeout";
                    };
                };
            };
        };
        /** @description The request headers exceed the server's read buffer; on any path. */
        RequestHeaderFieldsTooLarge: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "header_too_large";
                    };
                };
            };
        };
    };
    parameters: {
        /**
         * @description The experiment's id. One that is not a valid experiment id (see `ExperimentID`) is answered 404 `not_found`, like an unknown one.
         * @example f380739f-62f3-4316-8acf-93ed5744cb9e
         */
        ExperimentID: string;
        /**
         * @description The layer's name. One that is not a valid layer name (see `Layer`) is answered 404 `no_route`; an unknown valid one has no slots.
         * @example checkout
         */
        LayerName: string;
    };
    requestBodies: never;
    headers: {
        /**
         * @description The methods the path answers, e.g. `GET, HEAD, PATCH`.
         * @example GET, HEAD, PATCH
         */
        Allow: string;
        /**
         * @description Seconds to wait before retrying; sent (`1`) when the server is at its connection limit, not when the store is unavailable.
         * @example 1
         */
        RetryAfter: number;
        /**
         * @description The RFC 6750 challenge: `Bearer realm="assign"` without a token, `Bearer realm="assign", error="invalid_token"` for a token refused.
         * @example Bearer realm="assign", error="invalid_token"
         */
        WWWAuthenticateUser: string;
        /** @description The challenge of the admin routes. */
        WWWAuthenticateAdmin: "Bearer realm=\"assign-admin\"";
        /**
         * @description The path of the experiment created: `/api/experiments/{id}`.
         * @example /api/experiments/f380739f-62f3-4316-8acf-93ed5744cb9e
         */
        Location: string;
    };
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    enroll: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["EnrollmentRequest"] | components["schemas"]["EnrollmentBatchRequest"];
            };
        };
        responses: {
            /** @description The decision; for the multi-experiment form, one entry per id (200 whenever the body is valid: each entry carries its own outcome). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Enrollment"] | components["schemas"]["EnrollmentBatch"];
                };
            };
            /** @description The body is not a valid enrollment (`field` is `experiment_id`, or empty for a malformed body); the token's `sub` is not text or longer than 256 bytes (`field`: `sub`: the token is authentic, refreshing it would not help); a claim an eligibility rule reads is not text (`field`: the claim); or the HTTP framing is malformed (`bad_request`). A `platform` of another value than web, ios, android or other (in the body or the token's claim) names `platform`. The multi-experiment form is refused as a whole when `experiment_ids` is missing, empty, longer than 50 or not a list (`field`: `experiment_ids`) or repeats an id (`experiment_ids[i]`); a malformed id alone gets its own error entry in a 200. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "error": {
                     *         "code": "invalid",
                     *         "message": "sub is not text",
                     *         "field": "sub"
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "invalid" | "bad_request";
                        };
                    };
                };
            };
            /** @description A missing, malformed, expired, wrongly signed or `alg: none` token. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWWAuthenticateUser"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "error": {
                     *         "code": "unauthorized",
                     *         "message": "The token has expired."
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "unauthorized";
                        };
                    };
                };
            };
            404: components["responses"]["ExperimentNotFound"];
            413: components["responses"]["TooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            /** @description An unexpected failure: show the default experience. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "error": {
                     *         "code": "internal",
                     *         "message": "Internal error.",
                     *         "fallback": "default_experience"
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "internal";
                            /** @constant */
                            fallback: "default_experience";
                        };
                    };
                };
            };
            /** @description Redis is down or did not answer within the deadline, or the server is at its connection limit (then with `Retry-After`): show the default experience. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["RetryAfter"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "error": {
                     *         "code": "unavailable",
                     *         "message": "The service cannot answer in time; try again later.",
                     *         "fallback": "default_experience"
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "unavailable";
                            /** @constant */
                            fallback: "default_experience";
                        };
                    };
                };
            };
        };
    };
    createExperiment: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "experiment_id": "f380739f-62f3-4316-8acf-93ed5744cb9e",
                 *       "maximum_sample_size": 250,
                 *       "sampling_probability": 1,
                 *       "groups": [
                 *         {
                 *           "group_name": "old_journey",
                 *           "probability_of_falling_in": 0.5
                 *         },
                 *         {
                 *           "group_name": "new_journey",
                 *           "probability_of_falling_in": 0.5
                 *         }
                 *       ],
                 *       "eligibility": [
                 *         {
                 *           "claim": "first_order",
                 *           "equals": true
                 *         }
                 *       ]
                 *     }
                 */
                "application/json": components["schemas"]["CreateExperimentRequest"];
            };
        };
        responses: {
            /** @description Created. */
            201: {
                headers: {
                    Location: components["headers"]["Location"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "experiment_id": "f380739f-62f3-4316-8acf-93ed5744cb9e"
                     *     }
                     */
                    "application/json": components["schemas"]["ExperimentCreated"];
                };
            };
            400: components["responses"]["Invalid"];
            401: components["responses"]["AdminUnauthorized"];
            /** @description An experiment of that id exists (in any layer). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "error": {
                     *         "code": "conflict",
                     *         "message": "experiment \"f380739f-62f3-4316-8acf-93ed5744cb9e\" already exists"
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "conflict";
                        };
                    };
                };
            };
            413: components["responses"]["TooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            500: components["responses"]["Internal"];
            503: components["responses"]["Unavailable"];
        };
    };
    listExperiments: {
        parameters: {
            query?: {
                /** @description Page size, 1 to 1000 (400 `invalid`, `field` `limit`, otherwise). */
                limit?: number;
                /** @description Return the experiments whose id sorts after this one: the `next` of the previous page. */
                after?: string;
                /** @description Sort by this key instead of paging in id order: every experiment (at most 10,000) is read, filtered, sorted (ties by id; `fill` is members over the cap) and paged by `offset`. With any of `sort`, `order`, `offset`, `status` or `q`, `after` is refused and the page carries `total` and `offset`. */
                sort?: "experiment_id" | "status" | "layer" | "fill" | "enrolled" | "created_at" | "updated_at";
                /** @description `asc` or `desc`; default `desc` for the times, `fill` and `enrolled`, else `asc`. */
                order?: "asc" | "desc";
                /** @description Experiments of the sorted list to skip. */
                offset?: number;
                /** @description Only the experiments of this status. */
                status?: components["schemas"]["Status"];
                /** @description Only the experiments whose id or layer contains this, in any case. */
                q?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ExperimentList"];
                };
            };
            /** @description `limit` is not an integer from 1 to 1000, or `sort`, `order`, `offset` or `status` is not one the parameter allows, or `after` is given with a sorted listing (`field` names the parameter). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "error": {
                     *         "code": "invalid",
                     *         "message": "limit must be an integer from 1 to 1000.",
                     *         "field": "limit"
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "invalid";
                        };
                    };
                };
            };
            401: components["responses"]["AdminUnauthorized"];
            500: components["responses"]["Internal"];
            503: components["responses"]["Unavailable"];
        };
    };
    listExperimentsHead: {
        parameters: {
            query?: {
                /** @description Page size, 1 to 1000 (400 `invalid`, `field` `limit`, otherwise). */
                limit?: number;
                /** @description Return the experiments whose id sorts after this one: the `next` of the previous page. */
                after?: string;
                /** @description Sort by this key instead of paging in id order: every experiment (at most 10,000) is read, filtered, sorted (ties by id; `fill` is members over the cap) and paged by `offset`. With any of `sort`, `order`, `offset`, `status` or `q`, `after` is refused and the page carries `total` and `offset`. */
                sort?: "experiment_id" | "status" | "layer" | "fill" | "enrolled" | "created_at" | "updated_at";
                /** @description `asc` or `desc`; default `desc` for the times, `fill` and `enrolled`, else `asc`. */
                order?: "asc" | "desc";
                /** @description Experiments of the sorted list to skip. */
                offset?: number;
                /** @description Only the experiments of this status. */
                status?: components["schemas"]["Status"];
                /** @description Only the experiments whose id or layer contains this, in any case. */
                q?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description `limit` is not an integer from 1 to 1000, or `sort`, `order`, `offset` or `status` is not one the parameter allows, or `after` is given with a sorted listing (`field` names the parameter). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description No admin token, or one that is not valid. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWWAuthenticateAdmin"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description A bug or an unexpected failure, such as a stored configuration that cannot be read. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Redis is down or did not answer within the deadline, or the server is at its connection limit (then with `Retry-After` and the connection closed). */
            503: {
                headers: {
                    "Retry-After": components["headers"]["RetryAfter"];
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    getExperiment: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The experiment's id. One that is not a valid experiment id (see `ExperimentID`) is answered 404 `not_found`, like an unknown one.
                 * @example f380739f-62f3-4316-8acf-93ed5744cb9e
                 */
                id: components["parameters"]["ExperimentID"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The experiment. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "experiment_id": "f380739f-62f3-4316-8acf-93ed5744cb9e",
                     *       "maximum_sample_size": 250,
                     *       "sampling_probability": 1,
                     *       "groups": [
                     *         {
                     *           "group_name": "old_journey",
                     *           "probability_of_falling_in": 0.5
                     *         },
                     *         {
                     *           "group_name": "new_journey",
                     *           "probability_of_falling_in": 0.5
                     *         }
                     *       ],
                     *       "eligibility": [
                     *         {
                     *           "claim": "first_order",
                     *           "equals": true
                     *         }
                     *       ],
                     *       "status": "running",
                     *       "version": 1,
                     *       "created_at": "2026-01-05T10:00:00Z",
                     *       "updated_at": "2026-01-05T10:00:00Z",
                     *       "updated_by": "alice",
                     *       "stats": {
                     *         "enrolled": 2,
                     *         "remaining": 248,
                     *         "per_group": {
                     *           "old_journey": 1,
                     *           "new_journey": 1
                     *         }
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Experiment"];
                };
            };
            401: components["responses"]["AdminUnauthorized"];
            404: components["responses"]["ExperimentNotFound"];
            500: components["responses"]["Internal"];
            503: components["responses"]["Unavailable"];
        };
    };
    getExperimentHead: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The experiment's id. One that is not a valid experiment id (see `ExperimentID`) is answered 404 `not_found`, like an unknown one.
                 * @example f380739f-62f3-4316-8acf-93ed5744cb9e
                 */
                id: components["parameters"]["ExperimentID"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The experiment. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description No admin token, or one that is not valid. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWWAuthenticateAdmin"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description No such experiment. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description A bug or an unexpected failure, such as a stored configuration that cannot be read. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Redis is down or did not answer within the deadline, or the server is at its connection limit (then with `Retry-After` and the connection closed). */
            503: {
                headers: {
                    "Retry-After": components["headers"]["RetryAfter"];
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    updateExperiment: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The experiment's id. One that is not a valid experiment id (see `ExperimentID`) is answered 404 `not_found`, like an unknown one.
                 * @example f380739f-62f3-4316-8acf-93ed5744cb9e
                 */
                id: components["parameters"]["ExperimentID"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "winner": "new_journey"
                 *     }
                 */
                "application/json": components["schemas"]["ExperimentUpdate"];
            };
        };
        responses: {
            /** @description The experiment as changed. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Experiment"];
                };
            };
            400: components["responses"]["Invalid"];
            401: components["responses"]["AdminUnauthorized"];
            404: components["responses"]["ExperimentNotFound"];
            /** @description The experiment is being changed concurrently: try again. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "conflict";
                        };
                    };
                };
            };
            413: components["responses"]["TooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            500: components["responses"]["Internal"];
            503: components["responses"]["Unavailable"];
        };
    };
    getExperimentChanges: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The experiment's id. One that is not a valid experiment id (see `ExperimentID`) is answered 404 `not_found`, like an unknown one.
                 * @example f380739f-62f3-4316-8acf-93ed5744cb9e
                 */
                id: components["parameters"]["ExperimentID"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The change history of an experiment. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ExperimentChanges"];
                };
            };
            401: components["responses"]["AdminUnauthorized"];
            /** @description Not a valid experiment id. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "error": {
                     *         "code": "not_found",
                     *         "message": "Experiment not found."
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "not_found";
                        };
                    };
                };
            };
            500: components["responses"]["Internal"];
            /** @description The warehouse cannot be read within the deadline, or this server reads none, or the server is at its connection limit (then with `Retry-After` and the connection closed). */
            503: {
                headers: {
                    "Retry-After": components["headers"]["RetryAfter"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "error": {
                     *         "code": "unavailable",
                     *         "message": "warehouse: open assign.duckdb: ..."
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "unavailable";
                        };
                    };
                };
            };
        };
    };
    getDailyEnrollments: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The experiment's id. One that is not a valid experiment id (see `ExperimentID`) is answered 404 `not_found`, like an unknown one.
                 * @example f380739f-62f3-4316-8acf-93ed5744cb9e
                 */
                id: components["parameters"]["ExperimentID"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Enrollments per day. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DailyEnrollments"];
                };
            };
            401: components["responses"]["AdminUnauthorized"];
            /** @description Not a valid experiment id. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "error": {
                     *         "code": "not_found",
                     *         "message": "Experiment not found."
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "not_found";
                        };
                    };
                };
            };
            500: components["responses"]["Internal"];
            /** @description The warehouse cannot be read within the deadline, or this server reads none, or the server is at its connection limit (then with `Retry-After` and the connection closed). */
            503: {
                headers: {
                    "Retry-After": components["headers"]["RetryAfter"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "error": {
                     *         "code": "unavailable",
                     *         "message": "warehouse: open assign.duckdb: ..."
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "unavailable";
                        };
                    };
                };
            };
        };
    };
    getExperimentResults: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The experiment's id. One that is not a valid experiment id (see `ExperimentID`) is answered 404 `not_found`, like an unknown one.
                 * @example f380739f-62f3-4316-8acf-93ed5744cb9e
                 */
                id: components["parameters"]["ExperimentID"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The results of each metric. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ExperimentResults"];
                };
            };
            401: components["responses"]["AdminUnauthorized"];
            /** @description Not a valid experiment id, an experiment the warehouse does not have yet, or a server started without `-metrics-file`. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "error": {
                     *         "code": "not_found",
                     *         "message": "No metrics file: start assignd with -metrics-file to see results here."
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "not_found";
                        };
                    };
                };
            };
            500: components["responses"]["Internal"];
            /** @description The warehouse cannot be read within the deadline, or this server reads none, or the server is at its connection limit (then with `Retry-After` and the connection closed). */
            503: {
                headers: {
                    "Retry-After": components["headers"]["RetryAfter"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "error": {
                     *         "code": "unavailable",
                     *         "message": "warehouse: open assign.duckdb: ..."
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "unavailable";
                        };
                    };
                };
            };
        };
    };
    sendSampleUsers: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The experiment's id. One that is not a valid experiment id (see `ExperimentID`) is answered 404 `not_found`, like an unknown one.
                 * @example f380739f-62f3-4316-8acf-93ed5744cb9e
                 */
                id: components["parameters"]["ExperimentID"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description What the sample users got. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "experiment_id": "f380739f-62f3-4316-8acf-93ed5744cb9e",
                     *       "users": 4000,
                     *       "enrolled": {
                     *         "new_journey": 125,
                     *         "old_journey": 125
                     *       },
                     *       "not_enrolled": {
                     *         "not_eligible": 410,
                     *         "sample_full": 3340
                     *       },
                     *       "orders": 1156
                     *     }
                     */
                    "application/json": components["schemas"]["SampleUsersSummary"];
                };
            };
            401: components["responses"]["AdminUnauthorized"];
            /** @description An unknown or malformed experiment id (`not_found`), or a server not in the embedded demo mode, which does not serve this path (`no_route`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "error": {
                     *         "code": "no_route",
                     *         "message": "No such endpoint."
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "not_found" | "no_route";
                        };
                    };
                };
            };
            500: components["responses"]["Internal"];
            /** @description The sample users file cannot be read (assignd runs outside the repository's root), the orders cannot be written, Redis does not answer, or the server is at its connection limit (then with `Retry-After` and the connection closed). */
            503: {
                headers: {
                    "Retry-After": components["headers"]["RetryAfter"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "error": {
                     *         "code": "unavailable",
                     *         "message": "the sample users cannot be read (open examples/shipping-address/users.csv: no such file or directory): run assignd from the repository's root, or set -demo-users"
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "unavailable";
                        };
                    };
                };
            };
        };
    };
    getLayer: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The layer's name. One that is not a valid layer name (see `Layer`) is answered 404 `no_route`; an unknown valid one has no slots.
                 * @example checkout
                 */
                name: components["parameters"]["LayerName"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The split. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "layer": "checkout",
                     *       "slots": {
                     *         "f380739f-62f3-4316-8acf-93ed5744cb9e": 500,
                     *         "c1": 500
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["LayerSplit"];
                };
            };
            401: components["responses"]["AdminUnauthorized"];
            /** @description The name is not a valid layer name, or the server does not serve layers (`no_route`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "error": {
                     *         "code": "no_route",
                     *         "message": "Layer not found."
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "no_route";
                        };
                    };
                };
            };
            500: components["responses"]["Internal"];
            503: components["responses"]["Unavailable"];
        };
    };
    getLayerHead: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The layer's name. One that is not a valid layer name (see `Layer`) is answered 404 `no_route`; an unknown valid one has no slots.
                 * @example checkout
                 */
                name: components["parameters"]["LayerName"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The split. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description No admin token, or one that is not valid. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWWAuthenticateAdmin"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The name is not a valid layer name, or the server does not serve layers (`no_route`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description A bug or an unexpected failure, such as a stored configuration that cannot be read. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Redis is down or did not answer within the deadline, or the server is at its connection limit (then with `Retry-After` and the connection closed). */
            503: {
                headers: {
                    "Retry-After": components["headers"]["RetryAfter"];
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    plan: {
        parameters: {
            query?: {
                /** @description `binary` (the baseline is the control's rate) or `numeric` (the baseline is the control's mean); default `numeric` when `sd` is given, else `binary`. */
                outcome?: "binary" | "numeric";
                /** @description The control's rate (binary) or mean (numeric). */
                baseline?: number;
                /** @description The per-user standard deviation of a numeric outcome. */
                sd?: number;
                /** @description The minimum detectable effect: a difference of rates or means, or with `relative=true` a fraction of the baseline. Omitted with `maximum_sample_size`: computed. */
                effect?: number;
                /** @description Whether `effect` is relative to the baseline. */
                relative?: boolean;
                /** @description The two-sided significance level of the whole experiment. */
                alpha?: number;
                /** @description The power of each comparison. */
                power?: number;
                /** @description The number of equal groups (without `probabilities`). */
                groups?: number;
                /**
                 * @description The groups' probabilities, comma-separated, the control first.
                 * @example [
                 *       0.2,
                 *       0.4,
                 *       0.4
                 *     ]
                 */
                probabilities?: number[];
                /** @description The experiment's sampling probability: users who must reach the screen are the enrolled ones divided by it. */
                sampling_probability?: number;
                /** @description When given, the plan is reversed: the effect this many enrolled users can detect. */
                maximum_sample_size?: number;
                /** @description The test planned for: `fixed`, the fixed-horizon test (the least the cap must hold, for one look at the end), or `sequential`, the mSPRT results runs while the experiment runs, its mixture tuned for the plan's total (results tunes it for the cap) and the power reached at that total; its plan is larger, the price of looking at any time, and the answer carries `sequential`, the comparison with the fixed-horizon plan. */
                method?: "fixed" | "sequential";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The plan. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Plan"];
                };
            };
            /** @description A parameter is unknown, repeated, not a number, or refused (`field` names it). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "error": {
                     *         "code": "invalid",
                     *         "message": "baseline must be a number, got \"x\"",
                     *         "field": "baseline"
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "invalid";
                        };
                    };
                };
            };
            401: components["responses"]["AdminUnauthorized"];
            500: components["responses"]["Internal"];
            503: components["responses"]["AtConnectionLimit"];
        };
    };
    planHead: {
        parameters: {
            query?: {
                /** @description `binary` (the baseline is the control's rate) or `numeric` (the baseline is the control's mean); default `numeric` when `sd` is given, else `binary`. */
                outcome?: "binary" | "numeric";
                /** @description The control's rate (binary) or mean (numeric). */
                baseline?: number;
                /** @description The per-user standard deviation of a numeric outcome. */
                sd?: number;
                /** @description The minimum detectable effect: a difference of rates or means, or with `relative=true` a fraction of the baseline. Omitted with `maximum_sample_size`: computed. */
                effect?: number;
                /** @description Whether `effect` is relative to the baseline. */
                relative?: boolean;
                /** @description The two-sided significance level of the whole experiment. */
                alpha?: number;
                /** @description The power of each comparison. */
                power?: number;
                /** @description The number of equal groups (without `probabilities`). */
                groups?: number;
                /**
                 * @description The groups' probabilities, comma-separated, the control first.
                 * @example [
                 *       0.2,
                 *       0.4,
                 *       0.4
                 *     ]
                 */
                probabilities?: number[];
                /** @description The experiment's sampling probability: users who must reach the screen are the enrolled ones divided by it. */
                sampling_probability?: number;
                /** @description When given, the plan is reversed: the effect this many enrolled users can detect. */
                maximum_sample_size?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The plan. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description A parameter is unknown, repeated, not a number, or refused (`field` names it). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description No admin token, or one that is not valid. */
            401: {
                headers: {
                    "WWW-Authenticate": components["headers"]["WWWAuthenticateAdmin"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description A bug or an unexpected failure, such as a stored configuration that cannot be read. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The server is at its connection limit: `Retry-After` is sent, the connection closed. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["RetryAfter"];
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    healthz: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Alive. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "status": "ok"
                     *     }
                     */
                    "application/json": components["schemas"]["Health"];
                };
            };
            503: components["responses"]["AtConnectionLimit"];
        };
    };
    healthzHead: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Alive. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The server is at its connection limit: `Retry-After` is sent, the connection closed. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["RetryAfter"];
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    readyz: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Ready, or degraded: members are answered but something fails (`error` says what), such as Redis out of memory refusing new enrollments. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "status": "ready"
                     *     }
                     */
                    "application/json": {
                        /** @enum {unknown} */
                        status?: "ready" | "degraded";
                    } & components["schemas"]["Readiness"];
                };
            };
            /** @description Not ready (a `Readiness` with status `unavailable`), or the server is at its connection limit (an `Error`, with `Retry-After`). */
            503: {
                headers: {
                    "Retry-After": components["headers"]["RetryAfter"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "status": "unavailable",
                     *       "error": "Not ready: a dependency is unavailable."
                     *     }
                     */
                    "application/json": ({
                        /** @constant */
                        status?: "unavailable";
                    } & components["schemas"]["Readiness"]) | (components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "unavailable";
                            /** @constant */
                            fallback: "default_experience";
                        };
                    });
                };
            };
        };
    };
    readyzHead: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Ready, or degraded: members are answered but something fails (`error` says what), such as Redis out of memory refusing new enrollments. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Not ready (a `Readiness` with status `unavailable`), or the server is at its connection limit (an `Error`, with `Retry-After`). */
            503: {
                headers: {
                    "Retry-After": components["headers"]["RetryAfter"];
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    metrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The metrics. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": string;
                };
            };
            404: components["responses"]["NoRoute"];
            503: components["responses"]["AtConnectionLimit"];
        };
    };
    openapi: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The document. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": Record<string, never>;
                };
            };
            503: components["responses"]["AtConnectionLimit"];
        };
    };
    openapiHead: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The document. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The server is at its connection limit: `Retry-After` is sent, the connection closed. */
            503: {
                headers: {
                    "Retry-After": components["headers"]["RetryAfter"];
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
}
type WithRequired<T, K extends keyof T> = T & {
    [P in K]-?: T[P];
};
