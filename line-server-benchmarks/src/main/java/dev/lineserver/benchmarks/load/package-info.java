/**
 * End-to-end load benchmark: {@link dev.lineserver.benchmarks.load.LoadBenchmark} starts a server
 * JVM ({@link dev.lineserver.benchmarks.load.ServerMain}) and a load client JVM ({@link
 * dev.lineserver.benchmarks.load.ClientMain}) per measurement, on 127.0.0.1 only, and compares
 * line-server with Netty, thread-per-connection servers and a raw read-and-discard bound.
 *
 * <pre>{@code
 * java -cp line-server-benchmarks/target/benchmarks.jar \
 *     dev.lineserver.benchmarks.load.LoadBenchmark --help
 * }</pre>
 */
package dev.lineserver.benchmarks.load;
