package dev.lineserver.examples;

import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The command line of an example: options {@code --name value} or {@code --name=value}, and flags
 * {@code --name}. Every getter checks its value and throws {@link IllegalArgumentException} in the
 * form {@code --port: 70000 (expected: 0..65535)}.
 */
final class Args {
  private final Map<String, String> values = new HashMap<>();
  private final Set<String> flags = new HashSet<>();

  private Args() {}

  /**
   * A program's options from {@code args}, or null after printing {@code usage} for {@code --help};
   * a bad argument prints its error and the usage, and exits with status 2.
   */
  static <O> @Nullable O optionsOrExit(String[] args, String usage, Function<String[], O> parse) {
    if (Arrays.asList(args).contains("--help")) {
      System.out.println(usage);
      return null;
    }
    try {
      return parse.apply(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.err.println(usage);
      System.exit(2);
      return null;
    }
  }

  /**
   * Parses {@code args}, knowing which names take a value and which are flags.
   *
   * @throws IllegalArgumentException for an unknown option, a missing value, or a positional
   *     argument
   */
  static Args parse(String[] args, Set<String> valueOptions, Set<String> flagOptions) {
    Args parsed = new Args();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      int equals = arg.indexOf('=');
      String name = equals < 0 ? arg : arg.substring(0, equals);
      if (valueOptions.contains(name)) {
        String value;
        if (equals >= 0) {
          value = arg.substring(equals + 1);
        } else if (i + 1 < args.length) {
          value = args[++i];
        } else {
          throw new IllegalArgumentException(name + ": no value");
        }
        parsed.values.put(name, value);
      } else if (equals < 0 && flagOptions.contains(name)) {
        parsed.flags.add(name);
      } else {
        throw new IllegalArgumentException("unknown option: " + arg);
      }
    }
    return parsed;
  }

  boolean flag(String name) {
    return flags.contains(name);
  }

  String string(String name, String defaultValue) {
    return values.getOrDefault(name, defaultValue);
  }

  @Nullable String string(String name) {
    return values.get(name);
  }

  int integer(String name, int defaultValue, int min, int max) {
    String text = values.get(name);
    if (text == null) {
      return defaultValue;
    }
    int value;
    try {
      value = Integer.parseInt(text);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + ": " + text + " (expected: a whole number)", e);
    }
    return checkRange(name, value, min, max);
  }

  double decimal(String name, double defaultValue, double min, double max) {
    String text = values.get(name);
    if (text == null) {
      return defaultValue;
    }
    double value;
    try {
      value = Double.parseDouble(text);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + ": " + text + " (expected: a number)", e);
    }
    if (!(value >= min && value <= max)) {
      throw new IllegalArgumentException(
          name + ": " + text + " (expected: " + min + ".." + max + ")");
    }
    return value;
  }

  static int checkRange(String name, int value, int min, int max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          name + ": " + value + " (expected: " + min + ".." + max + ")");
    }
    return value;
  }
}
