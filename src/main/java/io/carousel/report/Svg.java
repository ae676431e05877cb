package io.carousel.report;

import java.util.Map;

/** A {@link Scene} as inline SVG, well-formed XML (every element closed, every attribute quoted). */
final class Svg {

    private Svg() {}

    static void write(Scene scene, String id, StringBuilder b) {
        b.append("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" id=\"").append(Html.escape(id))
                .append("\" viewBox=\"0 0 ").append(num(scene.width)).append(' ').append(num(scene.height))
                .append("\" role=\"img\">\n");
        int[] clips = {0};
        for (Scene.Shape s : scene.shapes) {
            shape(s, id, clips, b);
        }
        b.append("</svg>\n");
    }

    private static void shape(Scene.Shape shape, String id, int[] clips, StringBuilder b) {
        if (shape instanceof Scene.Path p) {
            if (p.parts().isEmpty()) {
                return;
            }
            b.append("<path d=\"");
            for (double[] part : p.parts()) {
                for (int i = 0; i + 1 < part.length; i += 2) {
                    b.append(i == 0 ? 'M' : 'L').append(num(part[i])).append(',').append(num(part[i + 1]));
                }
                if (p.closed()) {
                    b.append('Z');
                }
            }
            b.append('"');
            style(p.style(), b);
            end("path", p.meta(), b);
        } else if (shape instanceof Scene.Rect r) {
            b.append("<rect x=\"").append(num(r.x())).append("\" y=\"").append(num(r.y())).append("\" width=\"")
                    .append(num(r.w())).append("\" height=\"").append(num(r.h())).append('"');
            style(r.style(), b);
            end("rect", r.meta(), b);
        } else if (shape instanceof Scene.Circle c) {
            b.append("<circle cx=\"").append(num(c.cx())).append("\" cy=\"").append(num(c.cy())).append("\" r=\"")
                    .append(num(c.r())).append('"');
            style(c.style(), b);
            end("circle", c.meta(), b);
        } else if (shape instanceof Scene.Text t) {
            b.append("<text x=\"").append(num(t.x())).append("\" y=\"").append(num(t.y()))
                    .append("\" font-size=\"").append(num(t.size())).append("\" text-anchor=\"").append(t.anchor())
                    .append("\" fill=\"").append(t.color()).append('"').append(t.bold() ? " font-weight=\"bold\"" : "")
                    .append('>').append(Html.escape(t.text())).append("</text>\n");
        } else if (shape instanceof Scene.Group g) {
            String clip = id + "-clip" + clips[0]++;
            b.append("<clipPath id=\"").append(Html.escape(clip)).append("\"><rect x=\"").append(num(g.x()))
                    .append("\" y=\"").append(num(g.y())).append("\" width=\"").append(num(g.w())).append("\" height=\"")
                    .append(num(g.h())).append("\"/></clipPath>\n<g clip-path=\"url(#").append(Html.escape(clip))
                    .append(")\">\n");
            for (Scene.Shape s : g.shapes()) {
                shape(s, id, clips, b);
            }
            b.append("</g>\n");
        }
    }

    private static void style(Scene.Style s, StringBuilder b) {
        b.append(" fill=\"").append(s.fill() == null ? "none" : s.fill()).append('"');
        if (s.fill() != null && s.fillOpacity() < 1) {
            b.append(" fill-opacity=\"").append(num(s.fillOpacity())).append('"');
        }
        if (s.stroke() != null) {
            b.append(" stroke=\"").append(s.stroke()).append("\" stroke-width=\"").append(num(s.strokeWidth())).append('"');
            if (s.dash() != null) {
                b.append(" stroke-dasharray=\"").append(s.dash()).append('"');
            }
            b.append(" stroke-linejoin=\"round\"");
        }
    }

    /** Ends the element: its class and data attributes, and a title child when there is a tooltip. */
    private static void end(String element, Scene.Meta m, StringBuilder b) {
        if (m.cssClass() != null) {
            b.append(" class=\"").append(m.cssClass()).append('"');
        }
        for (Map.Entry<String, String> e : m.data().entrySet()) {
            b.append(" data-").append(e.getKey()).append("=\"").append(Html.escape(e.getValue())).append('"');
        }
        if (m.title() == null) {
            b.append("/>\n");
        } else {
            b.append("><title>").append(Html.escape(m.title())).append("</title></").append(element).append(">\n");
        }
    }

    /** A coordinate to 0.1 px, without exponent or trailing ".0". */
    static String num(double v) {
        if (!Double.isFinite(v)) {
            return "0";
        }
        long tenths = Math.round(v * 10);
        StringBuilder s = new StringBuilder();
        if (tenths < 0) {
            s.append('-');
            tenths = -tenths;
        }
        s.append(tenths / 10);
        if (tenths % 10 != 0) {
            s.append('.').append(tenths % 10);
        }
        return s.toString();
    }
}
