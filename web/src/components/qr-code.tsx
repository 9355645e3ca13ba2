import QRCode from "qrcode";
import { useEffect, useState } from "react";

/** `text` as a QR code drawn in the page (no service is asked), for an authenticator app to scan. */
export function QrCode({ text, label }: { text: string; label: string }) {
  const [image, setImage] = useState<string | null>(null);
  useEffect(() => {
    let current = true;
    QRCode.toDataURL(text, { errorCorrectionLevel: "M", margin: 2, width: 220 }).then(
      (url) => current && setImage(url),
      () => current && setImage(null),
    );
    return () => {
      current = false;
    };
  }, [text]);
  return image ? <img className="qr" src={image} alt={label} width={220} height={220} /> : <div className="qr placeholder" />;
}
