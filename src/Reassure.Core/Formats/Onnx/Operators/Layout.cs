using Reassure.Formats.Onnx.Proto;

namespace Reassure.Formats.Onnx.Operators;

/// <summary>Shared checks of the NCHW operators (Conv, pools, BatchNormalization): the per-sample shape and 2-D attributes.</summary>
internal static class Layout
{
    /// <summary>The network data of input 0 as an affine value of per-sample shape [C, H, W] (a constant is refused).</summary>
    public static AffineValue Image(ImportContext ctx, NodeProto node)
    {
        var a = ctx.Input(node, 0) as AffineValue
            ?? throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, "X (input 0) is a constant; expected X to depend on the network input");
        ctx.OnCurrentBase(node, a);
        if (a.Shape.Length != 3)
            throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node,
                $"X has shape [batch, {string.Join(", ", a.Shape)}]; expected a 2-D image batch [batch, C, H, W] (NCHW)");
        return a;
    }

    /// <summary>A 2-element integer attribute (kernel, strides, dilations) with a default; any other length is refused.</summary>
    public static (int H, int W) Pair(ImportContext ctx, NodeProto node, string name, int fallback)
    {
        var v = ImportContext.Ints(node, name);
        if (v is null) return (fallback, fallback);
        if (v.Length != 2 || v[0] < 1 || v[1] < 1 || v[0] > int.MaxValue || v[1] > int.MaxValue)
            throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, $"attribute '{name}' is [{string.Join(", ", v)}]; expected two positive values (2-D)");
        return ((int)v[0], (int)v[1]);
    }

    /// <summary>The 'pads' attribute [top, left, bottom, right] (default 0); auto_pad must be NOTSET or VALID.</summary>
    public static (int Top, int Left, int Bottom, int Right) Pads(ImportContext ctx, NodeProto node)
    {
        var autoPad = ImportContext.Attribute(node, "auto_pad")?.S.ToStringUtf8() ?? "NOTSET";
        if (autoPad is not ("NOTSET" or "VALID" or ""))
            throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, $"auto_pad = {autoPad} is not supported; expected NOTSET with explicit 'pads', or VALID");
        var p = ImportContext.Ints(node, "pads");
        if (p is null || autoPad == "VALID") return (0, 0, 0, 0);
        if (p.Length != 4 || p.Any(v => v < 0 || v > int.MaxValue))
            throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, $"pads [{string.Join(", ", p)}] are not four non-negative values; expected [top, left, bottom, right]");
        return ((int)p[0], (int)p[1], (int)p[2], (int)p[3]);
    }
}
