namespace Engine.Data;

/// <summary>The checks every image transform makes on its input.</summary>
internal static class ImageBatch
{
    /// <summary>Checks that <paramref name="batch"/> is a float batch [B, C, H, W] and returns its sizes.</summary>
    public static (int B, int C, int H, int W) Check(string op, Tensor batch)
    {
        if (batch.IsDisposed) throw new DisposedTensorException(op);
        if (batch.Rank != 4)
            throw Errors.ShapeError(op, batch.Shape, $"needs a batch [B, C, H, W] (rank 4), not rank {batch.Rank}");
        if (!batch.DType.IsFloating())
            throw Errors.DTypeError(op, $"dtype {batch.DType.Name()} is not supported; image transforms take float32, float64 (ToTensor converts pixels)");
        return (batch.Size(0), batch.Size(1), batch.Size(2), batch.Size(3));
    }
}
