//! Thumbnails: at most 400x400, aspect kept, JPEG.

use image::ImageFormat;

pub const ACCEPTED_TYPES: [&str; 2] = ["image/jpeg", "image/png"];
pub const THUMBNAIL_EDGE: u32 = 400;

pub struct Thumbnail {
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// Of the original: `jpg` or `png`.
    pub extension: &'static str,
    pub content_type: &'static str,
}

/// Decodes an uploaded image (by its content, not its name) and makes the thumbnail.
pub fn make(bytes: &[u8]) -> Result<Thumbnail, String> {
    let format = image::guess_format(bytes).map_err(|_| "unknown image format".to_string())?;
    let (extension, content_type) = match format {
        ImageFormat::Jpeg => ("jpg", "image/jpeg"),
        ImageFormat::Png => ("png", "image/png"),
        other => {
            return Err(format!(
                "{other:?} images are not accepted; upload JPEG or PNG"
            ))
        }
    };
    let decoded = image::load_from_memory_with_format(bytes, format).map_err(|e| e.to_string())?;
    let small = decoded.thumbnail(THUMBNAIL_EDGE, THUMBNAIL_EDGE);
    let rgb = image::DynamicImage::ImageRgb8(small.to_rgb8());
    let mut jpeg = std::io::Cursor::new(Vec::new());
    rgb.write_to(&mut jpeg, ImageFormat::Jpeg)
        .map_err(|e| e.to_string())?;
    Ok(Thumbnail {
        jpeg: jpeg.into_inner(),
        width: rgb.width(),
        height: rgb.height(),
        extension,
        content_type,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnails_fit_in_400_and_keep_aspect() {
        let img = image::RgbImage::from_fn(1200, 600, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        });
        let mut png = std::io::Cursor::new(Vec::new());
        img.write_to(&mut png, ImageFormat::Png).unwrap();
        let t = make(png.get_ref()).unwrap();
        assert_eq!((t.width, t.height, t.extension), (400, 200, "png"));
        let back = image::load_from_memory(&t.jpeg).unwrap();
        assert_eq!((back.width(), back.height()), (400, 200));
        assert!(make(b"GIF89a not really").is_err());
        assert!(make(b"plain text").is_err());
    }
}
