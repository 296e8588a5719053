using Google.Protobuf;
using Reassure.Formats.Onnx.Operators;
using Reassure.Formats.Onnx.Proto;
using Reassure.Networks;

namespace Reassure.Formats.Onnx;

/// <summary>
/// Reads an ONNX feed-forward ReLU network into a <see cref="Network"/> (method.md §1).
/// The graph is evaluated symbolically in topological order: every tensor is either a constant (initializer, Constant
/// node or folded) or an affine function M u + c of the current layer input u (the flattened network input, then the
/// output of the latest Relu). Affine operators compose (Gemm, MatMul, Add/Sub/Mul/Div by constants, shape-only
/// operators), so input normalisation and consecutive affine operators fold into one layer; a Relu closes a layer.
/// Only the nodes the graph output depends on are evaluated. Errors: RSR1001 missing file, RSR1002 invalid protobuf,
/// RSR1003 unsupported operator, RSR1004 a graph that is not a plain chain of affine layers and ReLUs (or an input dim beyond int), RSR1005 tensor data,
/// RSR1007 a NaN or infinite weight (initializer or Constant node).
/// </summary>
public static class OnnxImporter
{
    /// <summary>Reads the ONNX file at <paramref name="path"/>.</summary>
    public static OnnxModel Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ReassureException(ErrorCodes.FileUnreadable, $"cannot read the ONNX file: {e.Message}", path, e);
        }
        return Load(bytes, Path.GetFileName(path));
    }

    /// <summary>Reads ONNX bytes; <paramref name="sourceName"/> names them in messages.</summary>
    public static OnnxModel Load(byte[] bytes, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ReassureException(ErrorCodes.OnnxMalformed, $"not a valid ONNX protobuf ModelProto ({bytes.Length} bytes; the file may be truncated): {e.Message}", sourceName, e);
        }
        var graph = model.Graph
            ?? throw new ReassureException(ErrorCodes.OnnxMalformed, "the ModelProto has no graph; expected an ONNX model file", sourceName);
        long opset = model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(0).Max();

        // Initializers may also be listed as graph inputs (IR < 4 style); the data input is the one that is not.
        var initializers = new HashSet<string>(graph.Initializer.Select(t => t.Name), StringComparer.Ordinal);
        var dataInputs = graph.Input.Where(i => !initializers.Contains(i.Name)).ToList();
        if (dataInputs.Count != 1)
            throw new ReassureException(ErrorCodes.OnnxUnsupportedGraph,
                $"the graph has {dataInputs.Count} data inputs ({string.Join(", ", dataInputs.Select(i => "'" + i.Name + "'"))}); expected exactly one", sourceName);
        if (graph.Output.Count != 1)
            throw new ReassureException(ErrorCodes.OnnxUnsupportedGraph,
                $"the graph has {graph.Output.Count} outputs ({string.Join(", ", graph.Output.Select(o => "'" + o.Name + "'"))}); expected exactly one", sourceName);
        var input = dataInputs[0];
        var output = graph.Output[0];
        var inputDims = input.Type?.TensorType?.Shape?.Dim.ToList() ?? [];
        string inputWhere = $"{sourceName}, graph input '{input.Name}'";
        var elemType = input.Type?.TensorType?.ElemType ?? 0;
        if (elemType is not ((int)TensorProto.Types.DataType.Float or (int)TensorProto.Types.DataType.Double))
            throw new ReassureException(ErrorCodes.OnnxUnsupportedGraph, $"element type {(TensorProto.Types.DataType)elemType} is not supported; expected FLOAT or DOUBLE", inputWhere);
        if (inputDims.Count < 2)
            throw new ReassureException(ErrorCodes.OnnxUnsupportedGraph, $"shape [{FormatShape(inputDims)}] has no batch axis; expected [batch, features...]", inputWhere);
        var sampleShape = new int[inputDims.Count - 1];
        for (int i = 1; i < inputDims.Count; i++)
        {
            var d = inputDims[i];
            if (d.ValueCase != TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue || d.DimValue < 1)
                throw new ReassureException(ErrorCodes.OnnxUnsupportedGraph, $"dim {i} of shape [{FormatShape(inputDims)}] is not a fixed positive size; expected fixed sizes after the batch axis", inputWhere);
            if (d.DimValue > int.MaxValue)
                throw new ReassureException(ErrorCodes.OnnxUnsupportedGraph, $"dim {i} of shape [{FormatShape(inputDims)}] is {d.DimValue}; expected at most {int.MaxValue}", inputWhere);
            sampleShape[i - 1] = (int)d.DimValue;
        }
        if (sampleShape.Aggregate(1.0, (a, d) => a * d) > Array.MaxLength)
            throw new ReassureException(ErrorCodes.OnnxUnsupportedGraph, $"shape [{FormatShape(inputDims)}] has more than {Array.MaxLength} input values per sample; expected a smaller input", inputWhere);
        bool batchIsOne = inputDims[0].ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && inputDims[0].DimValue == 1;

        var ctx = new ImportContext(sourceName, opset, batchIsOne);
        foreach (var t in graph.Initializer)
            ctx.Set(t.Name, TensorReader.Read(t, $"{sourceName}, initializer '{t.Name}'"));
        ctx.Set(input.Name, AffineValue.Identity(sampleShape, 0));

        // A trailing Softmax/LogSoftmax over the class axis is left out (it keeps the order of the scores, so argmax and
        // argmin decisions are unchanged); the network's output is the tensor it reads.
        string logits = output.Name;
        string? stripped = null;
        var last = graph.Node.FirstOrDefault(n => n.Output.Contains(output.Name));
        if (last is not null && last.Domain is "" or "ai.onnx" && last.OpType is "Softmax" or "LogSoftmax" && last.Input.Count == 1)
        {
            long axis = ImportContext.Int(last, "axis", opset >= 13 ? -1 : 1);
            var outDims = output.Type?.TensorType?.Shape?.Dim;
            int outRank = outDims?.Count ?? 2;
            if (outRank != 2 || axis is not (1 or -1))
                throw ctx.Error(ErrorCodes.OnnxUnsupportedOperator, last,
                    $"{last.OpType} over axis {axis} of a rank-{outRank} output is not supported; expected a trailing {last.OpType} over the classes of [batch, classes] (stripped: argmax decisions do not depend on it)");
            stripped = last.OpType;
            logits = last.Input[0];
        }

        foreach (var node in NodesFeeding(graph, logits, ctx, sourceName))
        {
            var handler = OperatorTable.Find(node)
                ?? throw ctx.Error(ErrorCodes.OnnxUnsupportedOperator, node,
                    $"operator '{(node.Domain is "" ? "" : node.Domain + ".")}{node.OpType}' is not supported; expected one of {string.Join(", ", OperatorTable.Supported)}");
            handler(ctx, node);
        }

        string outputWhere = $"{sourceName}, graph output '{output.Name}'";
        var result = OutputValue(ctx, logits, outputWhere);
        ctx.Layers.Add(new Layer(result.MapOrDenseIdentity(), (double[])result.Offset.Clone(), relu: false,
            new LayerNames(result.WeightName, result.BiasName, logits, null)));
        var network = new Network(ctx.Layers.ToArray(), input.Name, output.Name);
        return new OnnxModel(network, sourceName, opset, model.IrVersion,
            input.Name, FormatShape(inputDims), output.Name, FormatShape(output.Type?.TensorType?.Shape?.Dim.ToList() ?? []), model, stripped, logits);
    }

    /// <summary>Dims joined by commas: value, symbolic name, or "?" when unknown.</summary>
    internal static string FormatShape(IReadOnlyList<TensorShapeProto.Types.Dimension> dims) =>
        string.Join(",", dims.Select(d => d.ValueCase switch
        {
            TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue => d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture),
            TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam => d.DimParam,
            _ => "?",
        }));

    /// <summary>
    /// The nodes the output depends on, in a topological order (Kahn's algorithm, stable in file order); with
    /// <paramref name="stopAt"/>, only those after that tensor (the search does not go past it).
    /// </summary>
    internal static List<NodeProto> NodesFeeding(GraphProto graph, string outputName, ImportContext ctx, string source, string? stopAt = null)
    {
        var producer = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int n = 0; n < graph.Node.Count; n++)
            foreach (var o in graph.Node[n].Output)
                if (o.Length > 0 && !producer.TryAdd(o, n))
                    throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, graph.Node[n], $"tensor '{o}' is produced by more than one node; expected a single producer (SSA form)");
        // Backward reachability from the output.
        var needed = new bool[graph.Node.Count];
        var stack = new Stack<string>();
        stack.Push(outputName);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (stack.Count > 0)
        {
            var name = stack.Pop();
            if (name == stopAt || !seen.Add(name) || !producer.TryGetValue(name, out var n) || needed[n]) continue;
            needed[n] = true;
            foreach (var i in graph.Node[n].Input) if (i.Length > 0) stack.Push(i);
        }
        // Topological order of the needed nodes.
        var order = new List<NodeProto>();
        var done = new bool[graph.Node.Count];
        bool progress = true;
        while (progress)
        {
            progress = false;
            for (int n = 0; n < graph.Node.Count; n++)
            {
                if (!needed[n] || done[n]) continue;
                bool ready = graph.Node[n].Input.All(i => i.Length == 0 || !producer.TryGetValue(i, out var p) || done[p] || !needed[p]); // not needed: before stopAt
                if (!ready) continue;
                done[n] = true;
                order.Add(graph.Node[n]);
                progress = true;
            }
        }
        for (int n = 0; n < graph.Node.Count; n++)
            if (needed[n] && !done[n])
                throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, graph.Node[n], $"the node is part of a cycle; expected an acyclic graph ({source})");
        return order;
    }

    /// <summary>The graph output as the last (ReLU-free) layer.</summary>
    internal static AffineValue OutputValue(ImportContext ctx, string name, string where)
    {
        var value = ctx.Get(name)
            ?? throw new ReassureException(ErrorCodes.OnnxUnsupportedGraph, "no node produces the output", where);
        if (value is not AffineValue a)
            throw new ReassureException(ErrorCodes.OnnxUnsupportedGraph, "the output does not depend on the network input; expected the output of an affine layer", where);
        if (a.Base != ctx.CurrentBase)
            throw new ReassureException(ErrorCodes.OnnxUnsupportedGraph,
                $"the output depends on ReLU layer {a.Base} but ReLU layer {ctx.CurrentBase} has been closed after it; expected a plain chain of layers", where);
        if (ctx.Layers.Count > 0 && a.Map is null && a.WeightName is null && a.Offset.All(v => v == 0))
            throw new ReassureException(ErrorCodes.OnnxUnsupportedGraph,
                "the output is the output of a Relu; expected the network to end in an affine layer (Gemm or MatMul + Add) without ReLU", where);
        return a;
    }
}
