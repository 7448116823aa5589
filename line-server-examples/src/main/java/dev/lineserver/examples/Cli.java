package dev.lineserver.examples;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;

/**
 * The command lines of the examples, parsed by picocli. A program's command is an object whose
 * {@code @Option} fields picocli fills and whose {@link OptionsCommand#options()} checks them and
 * builds the program's {@code Options} record. Every option may also come from an environment
 * variable: the program's prefix and the option's first name in capitals, dashes as underscores
 * ({@code --http-port} of {@code VEHICLE_} is {@code VEHICLE_HTTP_PORT}); the command line wins,
 * then the variable, then the option's default. A bad value is reported as {@code --port: 70000
 * (expected: 0..65535)} with the usage, and exit status {@value #USAGE_ERROR}.
 */
final class Cli {
  /** The exit status of a bad command line, as picocli and the examples before it use. */
  static final int USAGE_ERROR = CommandLine.ExitCode.USAGE;

  private Cli() {}

  /** A picocli command that builds a program's options from its fields. */
  interface OptionsCommand<O> {
    /**
     * The options the fields describe.
     *
     * @throws IllegalArgumentException naming the option, the bad value and what it accepts
     */
    O options();
  }

  /**
   * What {@link #parse} made of a command line: the options to run with, or none and the status to
   * exit with (0 after {@code --help}).
   */
  record Parsed<O>(@Nullable O options, int exitCode) {}

  /** The environment variable {@code option} may come from, e.g. {@code VEHICLE_HTTP_PORT}. */
  static String envName(String prefix, OptionSpec option) {
    return prefix
        + option.names()[0].replaceFirst("^-+", "").replace('-', '_').toUpperCase(Locale.ROOT);
  }

  /** The picocli command line of {@code command}, its defaults read from {@code env} first. */
  static CommandLine commandLine(Object command, String envPrefix, Map<String, String> env) {
    IDefaultValueProvider fromEnv =
        (ArgSpec arg) ->
            arg instanceof OptionSpec option && !option.usageHelp()
                ? env.get(envName(envPrefix, option))
                : null;
    return new CommandLine(command).setDefaultValueProvider(fromEnv);
  }

  /**
   * Parses {@code args} into {@code command} and builds its options; prints the usage to {@code
   * out} for {@code --help}, or the error and the usage to {@code err} for a bad command line.
   */
  static <O> Parsed<O> parse(
      OptionsCommand<O> command,
      String envPrefix,
      Map<String, String> env,
      String[] args,
      PrintStream out,
      PrintStream err) {
    CommandLine commandLine = commandLine(command, envPrefix, env);
    try {
      commandLine.parseArgs(args);
      if (commandLine.isUsageHelpRequested()) {
        commandLine.usage(out);
        return new Parsed<>(null, 0);
      }
      return new Parsed<>(command.options(), 0);
    } catch (ParameterException | IllegalArgumentException e) {
      err.println(e.getMessage());
      commandLine.usage(err);
      return new Parsed<>(null, USAGE_ERROR);
    }
  }

  /**
   * The options of {@code args} and the process' environment, or null after printing the usage for
   * {@code --help}; a bad command line prints its error and the usage, and exits with status 2.
   */
  static <O> @Nullable O optionsOrExit(OptionsCommand<O> command, String envPrefix, String[] args) {
    Parsed<O> parsed = parse(command, envPrefix, System.getenv(), args, System.out, System.err);
    if (parsed.exitCode() != 0) {
      System.exit(parsed.exitCode());
    }
    return parsed.options();
  }

  /** {@code value}, or an exception in the form {@code name: 70000 (expected: 0..65535)}. */
  static int checkRange(String name, int value, int min, int max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          name + ": " + value + " (expected: " + min + ".." + max + ")");
    }
    return value;
  }

  /** {@code value}, or an exception in the form {@code name: 0.0 (expected: 0.001..100000)}. */
  static double checkRange(String name, double value, double min, double max) {
    if (!(value >= min && value <= max)) {
      throw new IllegalArgumentException(
          name + ": " + value + " (expected: " + format(min) + ".." + format(max) + ")");
    }
    return value;
  }

  private static String format(double value) {
    return value == Math.rint(value) && Math.abs(value) < 1e15
        ? Long.toString((long) value)
        : Double.toString(value);
  }
}
