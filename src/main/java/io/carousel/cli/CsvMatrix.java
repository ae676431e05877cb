package io.carousel.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * A numeric CSV with a header row, as {@code model forward} and {@code model train} read it: every
 * cell a finite number. Errors name the file, line and column.
 */
record CsvMatrix(String[] header, int rows, int cols, double[] values) {

    /** Reads all rows; {@code minCols} is how many columns the model needs (more are an error too). */
    static CsvMatrix read(Path file, int cols) {
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String head = r.readLine();
            if (head == null) {
                throw new IllegalArgumentException(file + ": empty file, expected a header row and " + cols + " columns");
            }
            String[] header = head.split(",", -1);
            if (header.length != cols) {
                throw new IllegalArgumentException(file + " line 1: the header has " + header.length
                        + " columns, the model takes " + cols);
            }
            double[] v = new double[1024 * cols];
            int rows = 0;
            int lineNo = 1;
            for (String line; (line = r.readLine()) != null; ) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                String[] cells = line.split(",", -1);
                if (cells.length != cols) {
                    throw new IllegalArgumentException(file + " line " + lineNo + ": " + cells.length
                            + " columns, expected " + cols + " (" + String.join(",", header) + ")");
                }
                if ((rows + 1) * cols > v.length) {
                    v = Arrays.copyOf(v, v.length * 2);
                }
                for (int c = 0; c < cols; c++) {
                    v[rows * cols + c] = cell(file, lineNo, c, header[c], cells[c]);
                }
                rows++;
            }
            return new CsvMatrix(header, rows, cols, Arrays.copyOf(v, rows * cols));
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(file + ": no such file");
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }

    private static double cell(Path file, int line, int col, String name, String text) {
        String where = file + " line " + line + ", column " + (col + 1) + " (" + name.trim() + ")";
        double d;
        try {
            d = Double.parseDouble(text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(where + ": not a number: '" + text + "'");
        }
        if (!Double.isFinite(d)) {
            throw new IllegalArgumentException(where + ": " + text.trim() + " is not a finite number");
        }
        return d;
    }

    /** Writes rows of {@code cols} values under a header; numbers in Java's shortest round-trip form. */
    static void write(Path file, String[] header, double[] values, int cols) {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            w.write(String.join(",", header));
            w.write('\n');
            StringBuilder line = new StringBuilder();
            for (int r = 0; r < values.length / cols; r++) {
                line.setLength(0);
                for (int c = 0; c < cols; c++) {
                    if (c > 0) {
                        line.append(',');
                    }
                    line.append(format(values[r * cols + c]));
                }
                w.write(line.append('\n').toString());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    static String format(double v) {
        return String.format(Locale.ROOT, "%.9g", v).trim();
    }
}
