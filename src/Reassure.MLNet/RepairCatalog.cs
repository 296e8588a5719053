using Microsoft.ML;
using Reassure.Causality;
using Reassure.Formats.Onnx;

namespace Reassure.MLNet;

/// <summary>ML.NET entry points: <c>pipeline.Append(mlContext.Repair(...))</c>.</summary>
public static class RepairCatalog
{
    /// <summary>
    /// Creates a <see cref="RepairEstimator"/>: <c>Fit</c> repairs the ONNX model on the rows it gets wrong (or the rows
    /// a Boolean column marks) with provable, region-local patches (REASSURE), and returns a transformer that runs the
    /// repaired graph through ML.NET's <c>OnnxTransformer</c>.
    /// </summary>
    /// <param name="mlContext">The ML.NET context.</param>
    /// <param name="options">What to repair and how.</param>
    public static RepairEstimator Repair(this MLContext mlContext, RepairEstimatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(options);
        return new RepairEstimator(mlContext, options);
    }

    /// <summary>Short form of <see cref="Repair(MLContext, RepairEstimatorOptions)"/> with default options.</summary>
    /// <param name="mlContext">The ML.NET context.</param>
    /// <param name="modelPath">The ONNX model to repair.</param>
    /// <param name="featureColumnName">Vector of <see cref="float"/> of the model's input size.</param>
    /// <param name="labelColumnName">Key or integer label column.</param>
    public static RepairEstimator Repair(this MLContext mlContext, string modelPath, string featureColumnName = "Features", string labelColumnName = "Label")
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        return Repair(mlContext, new RepairEstimatorOptions
        {
            ModelPath = modelPath,
            FeatureColumnName = featureColumnName,
            LabelColumnName = labelColumnName,
        });
    }

    /// <summary>
    /// Causal fault localization (method.md §9) on the rows of <paramref name="data"/>: every hidden neuron of the ONNX
    /// model (or of <see cref="LocalizationOptions.Layer"/>) ranked by how much intervening on its value moves the rows'
    /// mean label margin. A repaired model is analysed as the original network inside it.
    /// </summary>
    /// <param name="mlContext">The ML.NET context.</param>
    /// <param name="modelPath">The ONNX model.</param>
    /// <param name="data">Rows with the feature vector and the label (integer or key, as for <see cref="Repair(MLContext, RepairEstimatorOptions)"/>).</param>
    /// <param name="featureColumnName">Vector of <see cref="float"/> of the model's input size.</param>
    /// <param name="labelColumnName">Key or integer label column.</param>
    /// <param name="options">Grid steps, layer, threads.</param>
    public static LocalizationResult LocalizeFaults(this MLContext mlContext, string modelPath, IDataView data,
        string featureColumnName = "Features", string labelColumnName = "Label", LocalizationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        ArgumentNullException.ThrowIfNull(data);
        var network = (RepairedOnnxImporter.TryLoad(modelPath)?.Original ?? OnnxImporter.Load(modelPath)).Network;
        var featureCol = SchemaChecks.Feature(data.Schema, featureColumnName, network.InputSize);
        var labelCol = SchemaChecks.Label(data.Schema, labelColumnName);
        var (inputs, read, _) = RowReader.Read(data, featureCol, labelCol, new LabelMap(labelCol, network.OutputSize), null, network.InputSize);
        var classes = RowReader.ValidClasses(read, network.OutputSize, labelColumnName);
        return CausalLocalizer.Localize(network, inputs, classes, options);
    }
}
