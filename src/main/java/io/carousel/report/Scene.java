package io.carousel.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A chart as a few vector shapes in pixel coordinates, drawn by {@link Svg} into the HTML page and
 * by {@link Painter} into a PNG, so both show the same thing.
 */
final class Scene {

    /** How a shape is painted; null colours are not painted. */
    record Style(String fill, double fillOpacity, String stroke, double strokeWidth, String dash) {
        static Style stroke(String color, double width) {
            return new Style(null, 1, color, width, null);
        }

        static Style fill(String color, double opacity) {
            return new Style(color, opacity, null, 0, null);
        }

        Style dashed(String pattern) {
            return new Style(fill, fillOpacity, stroke, strokeWidth, pattern);
        }

        Style outlined(String color, double width) {
            return new Style(fill, fillOpacity, color, width, dash);
        }
    }

    /** What only the page has: a CSS class, a tooltip, data-* attributes (in order). */
    record Meta(String cssClass, String title, Map<String, String> data) {
        static final Meta NONE = new Meta(null, null, Map.of());

        static Meta of(String cssClass) {
            return new Meta(cssClass, null, Map.of());
        }
    }

    sealed interface Shape permits Path, Rect, Circle, Text, Group {}

    /** Polylines (x0, y0, x1, y1, ...), each part closed into a polygon if {@code closed}. */
    record Path(List<double[]> parts, boolean closed, Style style, Meta meta) implements Shape {}

    record Rect(double x, double y, double w, double h, Style style, Meta meta) implements Shape {}

    record Circle(double cx, double cy, double r, Style style, Meta meta) implements Shape {}

    /** {@code anchor}: start, middle or end. */
    record Text(double x, double y, String text, double size, String anchor, String color, boolean bold) implements Shape {}

    /** Shapes clipped to a rectangle. */
    record Group(double x, double y, double w, double h, List<Shape> shapes) implements Shape {}

    final double width;
    final double height;
    final List<Shape> shapes = new ArrayList<>();

    Scene(double width, double height) {
        this.width = width;
        this.height = height;
    }

    static Path line(double x1, double y1, double x2, double y2, Style style) {
        return new Path(List.of(new double[] {x1, y1, x2, y2}), false, style, Meta.NONE);
    }
}
