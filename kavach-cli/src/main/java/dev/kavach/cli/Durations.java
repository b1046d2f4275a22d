package dev.kavach.cli;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/** Parses {@code 500ms}, {@code 30s}, {@code 2m}, {@code 1h} and ISO-8601 {@code PT30S}. */
final class Durations implements CommandLine.ITypeConverter<Duration> {
  private static final Pattern SIMPLE = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)(ms|s|m|h)");

  @Override
  public Duration convert(String value) {
    return parse(value);
  }

  static Duration parse(String value) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    Duration d;
    Matcher m = SIMPLE.matcher(v);
    if (m.matches()) {
      double n = Double.parseDouble(m.group(1));
      double millis =
          switch (m.group(2)) {
            case "ms" -> n;
            case "s" -> n * 1000;
            case "m" -> n * 60_000;
            default -> n * 3_600_000;
          };
      d = Duration.ofMillis(Math.round(millis));
    } else if (v.startsWith("pt") || v.startsWith("p")) {
      try {
        d = Duration.parse(value.trim().toUpperCase(Locale.ROOT));
      } catch (DateTimeParseException e) {
        throw new CommandLine.TypeConversionException("invalid duration \"" + value + "\"");
      }
    } else {
      throw new CommandLine.TypeConversionException(
          "invalid duration \"" + value + "\": give a unit, as in 500ms, 30s, 2m or 1h");
    }
    if (d.isZero() || d.isNegative()) {
      throw new CommandLine.TypeConversionException("duration \"" + value + "\" must be positive");
    }
    return d;
  }
}
