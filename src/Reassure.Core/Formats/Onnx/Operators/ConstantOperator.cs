using Reassure.Formats.Onnx.Proto;

namespace Reassure.Formats.Onnx.Operators;

/// <summary>Constant: the attribute 'value' (a tensor), or 'value_float', 'value_floats', 'value_int', 'value_ints'.</summary>
internal static class ConstantOperator
{
    public static void Constant(ImportContext ctx, NodeProto node)
    {
        if (ImportContext.Attribute(node, "value") is { T: { } t })
        {
            ctx.Output(node, TensorReader.Read(t, ctx.Where(node)));
            return;
        }
        if (ImportContext.Attribute(node, "value_float") is { } f)
        {
            TensorReader.CheckFinite([f.F], "attribute 'value_float'", ctx.Where(node));
            ctx.Output(node, new ConstantValue([], [f.F]));
            return;
        }
        if (ImportContext.Attribute(node, "value_int") is { } i) { ctx.Output(node, new ConstantValue([], [i.I])); return; }
        if (ImportContext.Attribute(node, "value_floats") is { } fs)
        {
            var values = fs.Floats.Select(v => (double)v).ToArray();
            TensorReader.CheckFinite(values, "attribute 'value_floats'", ctx.Where(node));
            ctx.Output(node, new ConstantValue([fs.Floats.Count], values));
            return;
        }
        if (ImportContext.Attribute(node, "value_ints") is { } ints) { ctx.Output(node, new ConstantValue([ints.Ints.Count], ints.Ints.Select(v => (double)v).ToArray())); return; }
        throw ctx.Error(ErrorCodes.OnnxBadTensor, node, "no numeric value; expected one of the attributes value, value_float(s), value_int(s)");
    }
}
