using Microsoft.ML;

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
}
