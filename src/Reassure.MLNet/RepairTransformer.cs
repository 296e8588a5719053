using Microsoft.ML;
using Microsoft.ML.Data;
using Reassure.Formats;
using Reassure.Repair;

namespace Reassure.MLNet;

/// <summary>
/// Scores with the repaired network: ML.NET's <c>OnnxTransformer</c> runs the repaired ONNX graph (original layers plus
/// region-gated patches, all inside the graph) and writes the <c>Score</c> vector and <c>PredictedLabel</c>.
/// </summary>
/// <remarks>
/// Save and load: ML.NET's loader registry is internal, so this transformer saves itself as the ML.NET transformers it
/// wraps (the <c>OnnxTransformer</c> with the repaired bytes, and the label mapping). <c>mlContext.Model.Load</c> gives
/// back that chain, which scores identically; the fit report and the engine result are not part of the zip.
/// </remarks>
public sealed class RepairTransformer : ITransformer
{
    private readonly ITransformer _inner;
    private readonly string _featureColumn;
    private readonly int _featureSize;

    internal RepairTransformer(ITransformer inner, string featureColumn, int featureSize, byte[] repairedOnnx, RepairResult result, RepairFitReport report)
    {
        _inner = inner;
        _featureColumn = featureColumn;
        _featureSize = featureSize;
        RepairedOnnx = repairedOnnx;
        Result = result;
        Report = report;
    }

    /// <summary>What Fit did: rows, buggy rows, fixed, patches, gammas, seconds, accuracy before and after.</summary>
    public RepairFitReport Report { get; }

    /// <summary>The engine's full result (per-row status, patch facts, timings).</summary>
    public RepairResult Result { get; }

    /// <summary>The repaired model as standard ONNX bytes (score output plus predicted-label output).</summary>
    public byte[] RepairedOnnx { get; }

    /// <summary>The ML.NET transformer that does the scoring (what <c>Save</c> writes).</summary>
    public ITransformer Inner => _inner;

    /// <summary>Writes <see cref="RepairedOnnx"/> to <paramref name="path"/> atomically.</summary>
    public void SaveOnnx(string path) => AtomicFile.WriteAllBytes(path, RepairedOnnx);

    /// <inheritdoc />
    public bool IsRowToRowMapper => _inner.IsRowToRowMapper;

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        Check(inputSchema);
        return _inner.GetOutputSchema(inputSchema);
    }

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        Check(inputSchema);
        return _inner.GetRowToRowMapper(inputSchema);
    }

    /// <inheritdoc />
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        Check(input.Schema);
        return _inner.Transform(input);
    }

    /// <inheritdoc />
    void ICanSaveModel.Save(ModelSaveContext ctx) => _inner.Save(ctx);

    private void Check(DataViewSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        SchemaChecks.Feature(schema, _featureColumn, _featureSize);
    }
}
