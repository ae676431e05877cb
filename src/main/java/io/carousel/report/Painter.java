package io.carousel.report;

import java.awt.AlphaComposite;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Composite;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.Shape;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;

/** A {@link Scene} drawn with Java2D (for the PNG report: no browser needed). */
final class Painter {

    private Painter() {}

    static void paint(Scene scene, Graphics2D g) {
        for (Scene.Shape s : scene.shapes) {
            shape(s, g);
        }
    }

    private static void shape(Scene.Shape shape, Graphics2D g) {
        if (shape instanceof Scene.Path p) {
            Path2D.Double path = new Path2D.Double();
            for (double[] part : p.parts()) {
                for (int i = 0; i + 1 < part.length; i += 2) {
                    if (i == 0) {
                        path.moveTo(part[i], part[i + 1]);
                    } else {
                        path.lineTo(part[i], part[i + 1]);
                    }
                }
                if (p.closed()) {
                    path.closePath();
                }
            }
            draw(path, p.style(), g);
        } else if (shape instanceof Scene.Rect r) {
            draw(new Rectangle2D.Double(r.x(), r.y(), r.w(), r.h()), r.style(), g);
        } else if (shape instanceof Scene.Circle c) {
            draw(new Ellipse2D.Double(c.cx() - c.r(), c.cy() - c.r(), 2 * c.r(), 2 * c.r()), c.style(), g);
        } else if (shape instanceof Scene.Text t) {
            text(g, t.text(), t.x(), t.y(), (float) t.size(), t.anchor(), color(t.color()), t.bold());
        } else if (shape instanceof Scene.Group gr) {
            Shape clip = g.getClip();
            g.clip(new Rectangle2D.Double(gr.x(), gr.y(), gr.w(), gr.h()));
            for (Scene.Shape s : gr.shapes()) {
                shape(s, g);
            }
            g.setClip(clip);
        }
    }

    static void text(Graphics2D g, String text, double x, double y, float size, String anchor, Color color, boolean bold) {
        g.setFont(new Font(Font.SANS_SERIF, bold ? Font.BOLD : Font.PLAIN, 1).deriveFont(size));
        double w = g.getFontMetrics().getStringBounds(text, g).getWidth();
        double left = anchor.equals("middle") ? x - w / 2 : anchor.equals("end") ? x - w : x;
        g.setColor(color);
        g.drawString(text, (float) left, (float) y);
    }

    private static void draw(Shape s, Scene.Style style, Graphics2D g) {
        Composite before = g.getComposite();
        if (style.fill() != null) {
            g.setComposite(AlphaComposite.getInstance(AlphaComposite.SRC_OVER, (float) style.fillOpacity()));
            g.setColor(color(style.fill()));
            g.fill(s);
            g.setComposite(before);
        }
        if (style.stroke() != null) {
            float[] dash = null;
            if (style.dash() != null) {
                String[] parts = style.dash().split(",");
                dash = new float[parts.length];
                for (int i = 0; i < parts.length; i++) {
                    dash[i] = Float.parseFloat(parts[i].strip());
                }
            }
            g.setStroke(new BasicStroke((float) style.strokeWidth(), BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10, dash, 0));
            g.setColor(color(style.stroke()));
            g.draw(s);
        }
    }

    static Color color(String hex) {
        return new Color(Integer.parseInt(hex.substring(1), 16));
    }
}
