package io.carousel.config;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Typed reads of raw configuration values. Every failure is an IllegalArgumentException whose
 * one-line message names the key, because the CLI prints exactly that and exits.
 */
final class Values {
    // what a person writes as a number; Double.parseDouble would also take NaN, 0x1p3 or 1.0d
    private static final Pattern DECIMAL = Pattern.compile("[-+]?(\\d+\\.?\\d*|\\.\\d+)([eE][-+]?\\d+)?");
    private static final Pattern TOPIC = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

    private final Map<String, String> raw;

    Values(Map<String, String> raw) {
        this.raw = raw;
    }

    static IllegalArgumentException invalid(String key, String expected, String got) {
        return new IllegalArgumentException("config key " + key + ": expected " + expected + ", got '" + got + "'");
    }

    String string(String key) {
        String v = raw.get(key);
        return v == null ? "" : v;
    }

    Optional<String> optional(String key) {
        String v = string(key);
        return v.isEmpty() ? Optional.empty() : Optional.of(v);
    }

    String nonEmpty(String key) {
        String v = string(key);
        if (v.isEmpty()) {
            throw invalid(key, "a value", v);
        }
        return v;
    }

    int intBetween(String key, int min, int max) {
        String v = string(key);
        String expected = max == Integer.MAX_VALUE ? "an integer >= " + min : "an integer between " + min + " and " + max;
        try {
            int n = Integer.parseInt(v);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below with the key
        }
        throw invalid(key, expected, v);
    }

    int intAtLeast(String key, int min) {
        return intBetween(key, min, Integer.MAX_VALUE);
    }

    long anyLong(String key) {
        String v = string(key);
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw invalid(key, "an integer", v);
        }
    }

    /** A finite number in [min, max], or (min, max] when {@code minExclusive}. */
    double number(String key, double min, boolean minExclusive, double max) {
        String v = string(key);
        String expected = "a number " + (minExclusive ? "> " : ">= ") + fmt(min)
                + (max == Double.MAX_VALUE ? "" : " and <= " + fmt(max));
        if (DECIMAL.matcher(v).matches()) {
            double d = Double.parseDouble(v);
            if (Double.isFinite(d) && (minExclusive ? d > min : d >= min) && d <= max) {
                return d;
            }
        }
        throw invalid(key, expected, v);
    }

    boolean bool(String key) {
        String v = string(key);
        if (v.equalsIgnoreCase("true")) {
            return true;
        }
        if (v.equalsIgnoreCase("false")) {
            return false;
        }
        throw invalid(key, "true or false", v);
    }

    Duration duration(String key) {
        String v = string(key);
        try {
            return Durations.parse(v);
        } catch (IllegalArgumentException e) {
            throw invalid(key, Durations.FORMS, v);
        }
    }

    /** Enum constants are written in lower case with '-' for '_' (dead-letter for DEAD_LETTER). */
    <E extends Enum<E>> E choice(String key, Class<E> type) {
        String v = string(key);
        for (E e : type.getEnumConstants()) {
            if (spelling(e).equalsIgnoreCase(v)) {
                return e;
            }
        }
        String all = Stream.of(type.getEnumConstants()).map(Values::spelling).collect(Collectors.joining(", "));
        throw invalid(key, "one of " + all, v);
    }

    static String spelling(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    Path path(String key) {
        String v = nonEmpty(key);
        try {
            return Path.of(v);
        } catch (InvalidPathException e) {
            throw invalid(key, "a file path", v);
        }
    }

    String topic(String key) {
        String v = string(key);
        if (!TOPIC.matcher(v).matches() || v.equals(".") || v.equals("..")) {
            throw invalid(key, "a topic name of 1 to 249 letters, digits, '.', '_' or '-'", v);
        }
        return v;
    }

    /** Comma-separated JSON pointers (RFC 6901): each starts with '/', and '~' only as ~0 or ~1. */
    List<String> jsonPointers(String key) {
        String v = string(key);
        List<String> out = new ArrayList<>();
        for (String part : v.split(",", -1)) {
            String p = part.strip();
            if (!p.startsWith("/") || p.replace("~0", "").replace("~1", "").contains("~")) {
                throw invalid(key, "comma-separated JSON pointers like /value or /sensors/0/temp", v);
            }
            out.add(p);
        }
        return List.copyOf(out);
    }

    Optional<Pattern> regex(String key) {
        String v = string(key);
        if (v.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Pattern.compile(v));
        } catch (PatternSyntaxException e) {
            throw invalid(key, "a regular expression (" + e.getDescription() + " at index " + e.getIndex() + ")", v);
        }
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
    }
}
