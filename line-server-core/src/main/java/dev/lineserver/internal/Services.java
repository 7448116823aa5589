package dev.lineserver.internal;

import org.jspecify.annotations.Nullable;

/**
 * The live objects one server's threads share, made by the {@link Engine} from its {@link
 * Settings}: the admission counts, the sink executor's budget, the TLS threads (with TLS only) and
 * the rate limits of the reports, and the open connections by id. Each is thread-safe; the record
 * itself never changes.
 */
record Services(
    Admission admission,
    Budget budget,
    @Nullable TlsTasks tlsTasks,
    Reports reports,
    Registry registry) {}
