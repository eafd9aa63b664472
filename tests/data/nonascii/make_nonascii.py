"""Write the non-ASCII fixture: Spanish (es) and Japanese (jp) ESCI-format files.

Hand-written (ESCI's es/jp rows are not available offline): 8 Spanish and 8 Japanese queries,
each with Exact, Substitute and Irrelevant judgments, official column names. Run
``python tests/data/nonascii/make_nonascii.py`` to rewrite the two TSV files byte for byte.
"""

from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent

# product_id, locale, title, brand, color, bullet points, description
PRODUCTS = [
    ("B0ES000001", "es", "Cámara digital compacta 20 MP con zoom óptico 10x", "Fotomax", "negro",
     "Pantalla LCD de 3 pulgadas; vídeo Full HD", "Cámara fácil de usar para viajes."),
    ("B0ES000002", "es", "Cámara instantánea con película incluida", "Instaflash", "rosa",
     "Fotos al instante", "Ideal para fiestas y cumpleaños."),
    ("B0ES000003", "es", "Cámaras de seguridad WiFi para exterior, pack de 2", "Vigila", "blanco",
     "Visión nocturna; detección de movimiento", "Cámaras IP resistentes al agua."),
    ("B0ES000004", "es", "Zapatillas de running para mujer, amortiguación ligera", "Corre",
     "azul", "Suela de goma; malla transpirable", "Zapatillas deportivas para correr."),
    ("B0ES000005", "es", "Zapatos de vestir de piel para hombre", "Elegante", "marrón",
     "Piel auténtica", "Zapatos clásicos para bodas."),
    ("B0ES000006", "es", "Auriculares inalámbricos Bluetooth con cancelación de ruido",
     "Sonora", "negro", "30 horas de batería; micrófono", "Auriculares de diadema plegables."),
    ("B0ES000007", "es", "Auriculares con cable para niños", "Sonora", "verde",
     "Volumen limitado a 85 dB", "Auriculares cómodos para la escuela."),
    ("B0ES000008", "es", "Batería externa 10000 mAh, carga rápida USB-C", "Energía+", "gris",
     "Dos puertos USB", "Batería portátil para móvil."),
    ("B0ES000009", "es", "Sartén antiadherente de aluminio forjado, 28 cm", "Cocina Fácil",
     "negro", "Apta para inducción; sin PFOA", "Sartén para freír con mango ergonómico."),
    ("B0ES000010", "es", "Juego de sartenes antiadherentes, 3 piezas", "Cocina Fácil", "rojo",
     "20, 24 y 28 cm", "Sartenes para todo tipo de cocinas."),
    ("B0ES000011", "es", "Lámpara de escritorio LED regulable con puerto USB", "Luminia",
     "blanco", "Cinco niveles de brillo", "Lámpara de mesa para estudiar."),
    ("B0ES000012", "es", "Funda de silicona para iPhone 13, tacto suave", "Protege", "lila",
     "Protección de cámara", "Funda delgada y resistente."),
    ("B0ES000013", "es", "Cafetera italiana de aluminio, 6 tazas", "Espresso", "plata",
     "Para todo tipo de fuegos", "Café intenso como en Italia."),
    ("B0ES000014", "es", "Mochila escolar con ruedas", "Cole", "azul", "Bolsillo para botella",
     "Mochila ligera para niños."),
    ("B0JP000001", "jp", "ワイヤレスイヤホン Bluetooth 5.0 防水 ノイズキャンセリング", "サウンド",
     "ブラック", "最大24時間再生", "ランニングにも使える完全ワイヤレスイヤホン"),
    ("B0JP000002", "jp", "有線イヤホン マイク付き", "サウンド", "ホワイト", "通話対応",
     "軽量で疲れにくいイヤホン"),
    ("B0JP000003", "jp", "電動歯ブラシ 替えブラシ 4本入り", "デンタル", "", "互換品",
     "やわらかめの替えブラシ"),
    ("B0JP000004", "jp", "歯ブラシ ふつう 10本セット", "デンタル", "", "", "毎日の歯みがきに"),
    ("B0JP000005", "jp", "ステンレス 水筒 500ml 保温 保冷", "サーモ", "シルバー",
     "真空断熱構造", "通勤や通学に便利な水筒"),
    ("B0JP000006", "jp", "キャンプ 椅子 折りたたみ 軽量 アウトドア", "山道具", "グリーン",
     "収納袋付き", "持ち運びやすいキャンプ用の椅子"),
    ("B0JP000007", "jp", "折りたたみ テーブル キャンプ用", "山道具", "ベージュ", "",
     "椅子とセットで使えるテーブル"),
    ("B0JP000008", "jp", "加湿器 超音波式 卓上 小型", "うるおい", "ホワイト", "静音設計",
     "寝室やオフィスに"),
    ("B0JP000009", "jp", "抹茶 粉末 京都宇治産", "茶寮", "", "", "お菓子作りにも"),
    ("B0JP000010", "jp", "ランニングシューズ メンズ 軽量 クッション", "走", "ネイビー",
     "通気性メッシュ", "初心者にもおすすめのランニングシューズ"),
    ("B0JP000011", "jp", "電気ケトル 1.0L 自動電源オフ", "キッチン堂", "ブラック", "空焚き防止",
     "すぐにお湯が沸く電気ケトル"),
    ("B0JP000012", "jp", "日焼け止め 顔用 無香料", "はだ", "", "", "敏感肌にもやさしい"),
]

# query_id, locale, query, [(product_id, label), ...]
QUERIES = [
    (910001, "es", "cámara digital", [("B0ES000001", "E"), ("B0ES000002", "S"),
                                      ("B0ES000014", "I")]),
    (910002, "es", "cámaras de seguridad", [("B0ES000003", "E"), ("B0ES000001", "S"),
                                            ("B0ES000013", "I")]),
    (910003, "es", "zapatillas running mujer", [("B0ES000004", "E"), ("B0ES000005", "S"),
                                                ("B0ES000011", "I")]),
    (910004, "es", "auriculares inalámbricos", [("B0ES000006", "E"), ("B0ES000007", "S"),
                                                ("B0ES000009", "I")]),
    (910005, "es", "baterías externas", [("B0ES000008", "E"), ("B0ES000012", "I")]),
    (910006, "es", "sartenes antiadherentes", [("B0ES000010", "E"), ("B0ES000009", "E"),
                                               ("B0ES000013", "I")]),
    (910007, "es", "lámpara led escritorio", [("B0ES000011", "E"), ("B0ES000008", "I")]),
    (910008, "es", "funda iphone silicona", [("B0ES000012", "E"), ("B0ES000006", "I")]),
    (920001, "jp", "ワイヤレスイヤホン", [("B0JP000001", "E"), ("B0JP000002", "S"),
                                          ("B0JP000009", "I")]),
    (920002, "jp", "歯ブラシ 替え", [("B0JP000003", "E"), ("B0JP000004", "S"),
                                     ("B0JP000011", "I")]),
    (920003, "jp", "水筒 保温", [("B0JP000005", "E"), ("B0JP000011", "I")]),
    (920004, "jp", "キャンプ 椅子", [("B0JP000006", "E"), ("B0JP000007", "C"),
                                     ("B0JP000012", "I")]),
    (920005, "jp", "加湿器", [("B0JP000008", "E"), ("B0JP000011", "I")]),
    (920006, "jp", "抹茶", [("B0JP000009", "E"), ("B0JP000005", "I")]),
    (920007, "jp", "ランニングシューズ", [("B0JP000010", "E"), ("B0JP000001", "I")]),
    (920008, "jp", "電気 ケトル", [("B0JP000011", "E"), ("B0JP000008", "I")]),
]


def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    products = pd.DataFrame(PRODUCTS, columns=[
        "product_id", "product_locale", "product_title", "product_brand", "product_color",
        "product_bullet_point", "product_description"])
    rows = []
    for qid, locale, query, judged in QUERIES:
        for pid, label in judged:
            rows.append({"example_id": len(rows) + 1, "query": query, "query_id": qid,
                         "product_id": pid, "product_locale": locale, "esci_label": label,
                         "small_version": 1, "large_version": 1, "split": "test"})
    return pd.DataFrame(rows), products


def main() -> None:
    examples, products = frames()
    examples.to_csv(HERE / "shopping_queries_dataset_examples.tsv", sep="\t", index=False,
                    lineterminator="\n")
    products.to_csv(HERE / "shopping_queries_dataset_products.tsv", sep="\t", index=False,
                    lineterminator="\n")


if __name__ == "__main__":
    main()
