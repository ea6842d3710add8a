package dev.bosun.controlplane.cli;

import java.io.PrintWriter;
import java.util.List;

/** The commands' tables: columns padded to their widest cell plus three spaces, as istioctl's. */
final class Table {
  private Table() {}

  /** Prints {@code rows}, the first being the header. */
  static void print(PrintWriter out, List<String[]> rows) {
    int[] widths = new int[rows.get(0).length];
    for (String[] row : rows) {
      for (int i = 0; i < row.length; i++) {
        widths[i] = Math.max(widths[i], row[i].length());
      }
    }
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < row.length; i++) {
        line.append(row[i]);
        if (i < row.length - 1) {
          line.append(" ".repeat(widths[i] - row[i].length() + 3));
        }
      }
      out.println(line.toString().stripTrailing());
    }
  }
}
