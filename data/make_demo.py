"""Generate the small synthetic ESCI-format demo catalogue shipped in ``data/demo/``.

The Amazon Shopping Queries (ESCI) dataset is large and has to be downloaded. This script
builds a tiny stand-in with the *same file names, columns, column order and dtypes* as the
official amazon-science/esci-data parquet files, so that the whole workflow can run offline
in seconds:

* ``shopping_queries_dataset_examples.parquet``: one row per (query, product) judgment,
  labelled E (exact), S (substitute), C (complement) or I (irrelevant);
* ``shopping_queries_dataset_products.parquet``: product text for every judged product, plus
  unjudged distractor products.

Everything is synthetic: products, brands and queries are made up from templates across ten
categories (headphones, running shoes, coffee makers, ...). No real ESCI text is used.

How the judgments are built, per query (a query is a text plus attribute constraints, e.g.
``{"kind": "Gel Stain", "color": "Ebony"}``):

* E products satisfy every constraint;
* S products come from the same category but break exactly one constraint (wrong size,
  colour, brand, model or product kind);
* C products are accessories for the category (a screen protector for a phone case query);
* I products come from an unrelated category.

The query set deliberately mixes two kinds of queries so that lexical and semantic retrieval
behave differently: *exact-token* queries hinge on brand names, model numbers and sizes that
appear verbatim in product text ("brewstone bs-40", "20 inch storage bin"), while
*paraphrase* queries use words that never occur in the relevant category's product text
("sneakers" for running shoes, "earphones" for earbuds). The generator checks the latter.

The output is deterministic: a fixed ``numpy.random.default_rng(0)`` stream and a fixed
parquet writer configuration give byte-identical files on every run (for the pinned
pandas/pyarrow versions).

Usage::

    python data/make_demo.py              # writes data/demo/
    python data/make_demo.py --out DIR
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

SEED = 0
REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "data" / "demo"
EXAMPLES_FILE = "shopping_queries_dataset_examples.parquet"
PRODUCTS_FILE = "shopping_queries_dataset_products.parquet"
LOCALE = "us"

LABELS = ("E", "S", "C", "I")
LABEL_SHARES = (0.50, 0.25, 0.05, 0.20)  # roughly the ESCI label distribution
JUDGMENTS_PER_QUERY = (12, 28)  # inclusive range of judged products per query
MIN_EXACT = 3
N_DISTRACTORS = 200  # unjudged products
IRRELEVANT_REUSE_PROB = 0.35  # I judgments that reuse a product judged for another query
TEST_SHARE = 0.30
SMALL_VERSION_SHARE = 0.40
# Share of products whose field is null, close to the real US data. Titles are never null.
NULL_RATES = {
    "product_description": 0.45,
    "product_bullet_point": 0.05,
    "product_brand": 0.02,
    "product_color": 0.20,
}
ASIN_ALPHABET = tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
ACCESSORY_BRANDS = ("Pointline", "Accessa", "Everyday Goods", "Kitbox", "Loopwell", "Brightfold")
ACCESSORY_COLORS = ("Black", "White", "Clear", "Grey", "Natural")

# Column order and types of the official ESCI files (pandas reads the strings back as `str`).
EXAMPLES_SCHEMA = pa.schema(
    [
        ("example_id", pa.int64()),
        ("query", pa.large_string()),
        ("query_id", pa.int64()),
        ("product_id", pa.large_string()),
        ("product_locale", pa.large_string()),
        ("esci_label", pa.large_string()),
        ("small_version", pa.int64()),
        ("large_version", pa.int64()),
        ("split", pa.large_string()),
    ]
)
PRODUCTS_SCHEMA = pa.schema(
    [
        ("product_id", pa.large_string()),
        ("product_title", pa.large_string()),
        ("product_description", pa.large_string()),
        ("product_bullet_point", pa.large_string()),
        ("product_brand", pa.large_string()),
        ("product_color", pa.large_string()),
        ("product_locale", pa.large_string()),
    ]
)


@dataclass(frozen=True)
class Category:
    """Templates and query set for one product category.

    ``attrs`` maps attribute names (``kind`` is the product type) to their values; ``brands``
    maps brand names to model names (possibly none). Title, bullet and description templates
    are ``str.format`` strings over the attributes plus ``brand``, ``model`` and ``extra``;
    ``NAME_lc`` gives the lower-cased value. ``avoid`` lists the paraphrase words the
    category's own product text must never contain. ``queries`` pairs each query text with
    the constraints an exact match has to satisfy.
    """

    key: str
    attrs: dict[str, tuple[str, ...]]
    brands: dict[str, tuple[str, ...]]
    title: str
    extras: tuple[str, ...]
    bullets: tuple[str, ...]
    descriptions: tuple[str, ...]
    complements: tuple[str, ...]
    complement_target: str
    avoid: tuple[str, ...]
    queries: tuple[tuple[str, dict[str, str]], ...]
    compat_attr: str | None = None


CATEGORIES: tuple[Category, ...] = (
    Category(
        key="headphones",
        attrs={
            "kind": (
                "True Wireless Earbuds",
                "Over-Ear Headphones",
                "On-Ear Headphones",
                "Sport Earbuds with Ear Hooks",
                "Wired Earbuds",
            ),
            "feature": (
                "Active Noise Cancelling",
                "Bluetooth 5.3",
                "IPX7 Waterproof",
                "40H Playtime",
                "Hi-Res Audio",
                "Built-in Microphone",
            ),
            "color": ("Black", "White", "Midnight Blue", "Rose Gold", "Graphite", "Sage Green"),
        },
        brands={
            "Auralis": ("AX-450", "AX-700"),
            "Sonique": ("SQ-20", "SQ-35"),
            "Veltro": ("V5", "V8 Pro"),
            "Nordbeat": ("NB-100", "NB-300"),
            "Kestrel Audio": ("K2", "K4"),
        },
        title="{brand} {model} {kind}, {feature}, {extra}, {color}",
        extras=(
            "Deep Bass Stereo Sound",
            "Touch Control",
            "Lightweight Comfortable Fit",
            "Fast USB-C Charging",
            "Clear Calls",
            "",
        ),
        bullets=(
            "IMMERSIVE SOUND: Precision-tuned drivers deliver balanced highs, clear mids and punchy bass.",
            "ALL-DAY COMFORT: Soft cushions and a lightweight design keep the {kind_lc} comfortable for hours.",
            "STABLE CONNECTION: Pairs quickly with phones, tablets and laptops and reconnects automatically.",
            "QUICK CHARGE: A 10-minute charge gives up to 2 hours of playback.",
            "CRYSTAL CLEAR CALLS: Dual microphones with environmental noise reduction pick up your voice, not the wind.",
            "SWEAT RESISTANT: A sealed design shrugs off rain and sweat on your daily run or commute.",
            "WHAT YOU GET: {brand} {kind}, USB-C charging cable, three sizes of ear tips and a user manual.",
        ),
        descriptions=(
            "The {brand} {model} {kind_lc} combine {feature_lc} with a clean, minimalist design.",
            "Designed for everyday listening, they switch seamlessly between music, podcasts and calls.",
            "The {color_lc} finish resists fingerprints and goes with everything.",
            "Controls are intuitive: tap to play or pause, hold to adjust the volume.",
            "Backed by a 12-month warranty and friendly customer support.",
        ),
        complements=(
            "Silicone Protective Case for {target} Charging Case",
            "Replacement Memory Foam Ear Tips, 3 Pairs",
            "Aluminum Headphone Stand",
            "USB-C Charging Cable, 6 ft, 2 Pack",
            "3.5mm Audio Extension Cable",
        ),
        complement_target="Wireless Earbuds",
        avoid=("earphones", "headset", "gym", "battery life"),
        queries=(
            ("wireless earbuds", {"kind": "True Wireless Earbuds"}),
            ("wireless earbuds for running", {"kind": "Sport Earbuds with Ear Hooks"}),
            ("earphones for the gym", {"kind": "Sport Earbuds with Ear Hooks"}),
            (
                "headset that blocks outside noise",
                {"kind": "Over-Ear Headphones", "feature": "Active Noise Cancelling"},
            ),
            ("auralis ax-700", {"brand": "Auralis", "model": "AX-700"}),
            ("sonique headphones", {"brand": "Sonique"}),
            ("white wireless earbuds", {"kind": "True Wireless Earbuds", "color": "White"}),
            (
                "bluetooth 5.3 over ear headphones",
                {"kind": "Over-Ear Headphones", "feature": "Bluetooth 5.3"},
            ),
            (
                "earbuds with long battery life",
                {"kind": "True Wireless Earbuds", "feature": "40H Playtime"},
            ),
            (
                "kestrel audio k4 on ear",
                {"brand": "Kestrel Audio", "model": "K4", "kind": "On-Ear Headphones"},
            ),
        ),
    ),
    Category(
        key="running_shoes",
        attrs={
            "kind": (
                "Road Running Shoes",
                "Trail Running Shoes",
                "Walking Shoes",
                "Cross Training Shoes",
            ),
            "gender": ("Men's", "Women's"),
            "feature": ("Lightweight Breathable Mesh", "Wide Width", "Cushioned Sole", "Waterproof"),
            "color": ("Black/White", "Grey", "Navy", "Triple Black", "Coral", "Olive"),
        },
        brands={
            "Stridewell": ("Glide 3", "Tempo 5"),
            "Peakrun": ("PR-9", "PR-12"),
            "Apexa": ("Cloudline", "Swift 2"),
            "Terraform": ("TR-X",),
            "Mercer & Co": (),
        },
        title="{brand} {gender} {model} {kind}, {feature}, {extra}, {color}",
        extras=("Non Slip Rubber Outsole", "Shock Absorbing", "Fashion Athletic", ""),
        bullets=(
            "RESPONSIVE CUSHIONING: A full-length foam midsole returns energy with every stride.",
            "BREATHABLE UPPER: Engineered knit lets air flow to keep feet cool and dry.",
            "SECURE FIT: A padded collar and tongue lock the heel in place without pressure points.",
            "DURABLE TRACTION: A rubber outsole grips pavement, track and packed dirt.",
            "TRUE TO SIZE: Order your usual size; choose the wide option if you are between sizes.",
            "EASY CARE: Remove the insole and hand wash with mild soap; air dry.",
        ),
        descriptions=(
            "The {brand} {model} {kind_lc} are made for daily miles.",
            "A {feature_lc} design keeps you comfortable from the first step to the last.",
            "This colorway is {color_lc}.",
            "Lightweight at about 9 ounces per shoe.",
        ),
        complements=(
            "Cushioned Athletic Socks, 6 Pairs",
            "Replacement Flat Shoe Laces, 3 Pairs",
            "Gel Insoles for Arch Support",
            "Shoe Cleaning Kit",
        ),
        complement_target="Running Shoes",
        avoid=("sneakers", "trainers", "jogging", "trails", "hiking", "standing"),
        queries=(
            ("running shoes men", {"kind": "Road Running Shoes", "gender": "Men's"}),
            ("womens sneakers for jogging", {"kind": "Road Running Shoes", "gender": "Women's"}),
            ("trainers for hiking trails", {"kind": "Trail Running Shoes"}),
            ("stridewell glide 3", {"brand": "Stridewell", "model": "Glide 3"}),
            ("peakrun pr-12 womens", {"brand": "Peakrun", "model": "PR-12", "gender": "Women's"}),
            (
                "waterproof trail running shoes",
                {"kind": "Trail Running Shoes", "feature": "Waterproof"},
            ),
            (
                "wide width walking shoes for women",
                {"kind": "Walking Shoes", "feature": "Wide Width", "gender": "Women's"},
            ),
            ("navy running shoes", {"kind": "Road Running Shoes", "color": "Navy"}),
            (
                "comfortable sneakers for standing all day",
                {"kind": "Walking Shoes", "feature": "Cushioned Sole"},
            ),
            ("apexa shoes", {"brand": "Apexa"}),
        ),
    ),
    Category(
        key="coffee_makers",
        attrs={
            "kind": (
                "Drip Coffee Maker",
                "Single Serve Coffee Maker",
                "French Press",
                "Cold Brew Coffee Maker",
                "Espresso Machine",
            ),
            "capacity": ("4-Cup", "5-Cup", "8-Cup", "12-Cup", "14-Cup"),
            "feature": (
                "Programmable Timer",
                "Thermal Carafe",
                "Glass Carafe",
                "Auto Shut-Off",
                "Built-in Grinder",
                "Milk Frother",
            ),
            "color": ("Black", "Stainless Steel", "White", "Red", "Matte Black"),
        },
        brands={
            "Brewstone": ("BS-12", "BS-40"),
            "Kaffa Home": ("KH200", "KH350"),
            "Morrow": (),
            "Ironleaf": ("IL-5",),
            "Velamo": ("Barista One",),
        },
        title="{brand} {model} {capacity} {kind} with {feature}, {extra}, {color}",
        extras=("Brew Strength Control", "Keep Warm Plate", "Reusable Filter", "Compact Design", ""),
        bullets=(
            "BREWS YOUR WAY: Choose regular or bold strength for a richer cup.",
            "EASY TO USE: An intuitive control panel with a clear display makes mornings simple.",
            "STAYS HOT: Keeps coffee at the ideal serving temperature for hours.",
            "EASY CLEANUP: Removable, dishwasher-safe parts and a self-clean cycle.",
            "SPACE SAVING: A slim footprint fits neatly on crowded countertops.",
            "WHAT'S INCLUDED: {brand} {kind}, measuring scoop and quick start guide.",
        ),
        descriptions=(
            "Start every morning with cafe-quality coffee from the {brand} {kind_lc}.",
            "It features a {feature_lc} and a {capacity_lc} capacity.",
            "The {color_lc} housing wipes clean easily.",
            "BPA-free materials throughout.",
        ),
        complements=(
            "Paper Coffee Filters, 200 Count",
            "Medium Roast Whole Bean Coffee, 2 lb",
            "Descaling Solution, 2 Uses",
            "Replacement Glass Carafe, 12-Cup",
            "Stainless Steel Milk Frothing Pitcher",
        ),
        complement_target="Coffee Makers",
        avoid=("pot", "lattes", "brewer", "grinds", "beans"),
        queries=(
            ("12 cup coffee maker", {"kind": "Drip Coffee Maker", "capacity": "12-Cup"}),
            ("coffee pot with timer", {"kind": "Drip Coffee Maker", "feature": "Programmable Timer"}),
            (
                "machine to make lattes at home",
                {"kind": "Espresso Machine", "feature": "Milk Frother"},
            ),
            ("brewstone bs-40", {"brand": "Brewstone", "model": "BS-40"}),
            ("thermal carafe coffee maker", {"feature": "Thermal Carafe"}),
            ("single cup coffee brewer", {"kind": "Single Serve Coffee Maker"}),
            ("cold brew coffee maker", {"kind": "Cold Brew Coffee Maker"}),
            ("kaffa home coffee maker", {"brand": "Kaffa Home"}),
            (
                "red coffee maker 5 cup",
                {"kind": "Drip Coffee Maker", "color": "Red", "capacity": "5-Cup"},
            ),
            ("coffee machine that grinds beans", {"feature": "Built-in Grinder"}),
        ),
    ),
    Category(
        key="phone_cases",
        attrs={
            "kind": ("Clear Case", "Rugged Case", "Wallet Case", "Slim Case", "Silicone Case"),
            "phone": ("iPhone 15", "iPhone 15 Pro Max", "iPhone 14", "Galaxy S24", "Pixel 8"),
            "feature": (
                "MagSafe Compatible",
                "Military Grade Drop Protection",
                "Card Holder",
                "Built-in Screen Protector",
                "Kickstand",
            ),
            "color": ("Black", "Clear", "Navy Blue", "Pink", "Purple", "Forest Green"),
        },
        brands={
            "Shieldcraft": ("Armor Pro", "Lite"),
            "Ollo": (),
            "Ferrox": ("FX Guard",),
            "Lumacase": (),
            "Tidewell": (),
        },
        title="{brand} {model} {kind} for {phone}, {feature}, {extra}, {color}",
        extras=("Raised Camera Lip", "Anti-Yellowing", "Wireless Charging Compatible", ""),
        bullets=(
            "DESIGNED FOR {phone_uc}: Precise cutouts give full access to ports, buttons and the camera.",
            "DROP PROTECTION: Air-cushioned corners absorb impact from everyday drops.",
            "GRIPPY FEEL: A textured edge keeps the phone secure in your hand.",
            "RAISED EDGES: Lips around the screen and camera help prevent scratches when laid flat.",
            "EASY INSTALL: Snaps on in seconds and comes off just as easily.",
        ),
        descriptions=(
            "The {brand} {kind_lc} is made for the {phone}.",
            "It adds protection without adding bulk.",
            "Finished in {color_lc}.",
            "Compatible with most wireless chargers.",
        ),
        complements=(
            "Tempered Glass Screen Protector for {target}, 3 Pack",
            "Camera Lens Protector for {target}",
            "USB-C Fast Charger, 20W",
            "Magnetic Car Phone Mount",
            "Phone Grip and Stand",
        ),
        complement_target="iPhone and Galaxy",
        compat_attr="phone",
        avoid=("cover", "bumper", "shockproof", "thin", "slot"),
        queries=(
            ("iphone 15 case", {"phone": "iPhone 15"}),
            ("iphone 15 pro max case", {"phone": "iPhone 15 Pro Max"}),
            ("galaxy s24 wallet case", {"phone": "Galaxy S24", "kind": "Wallet Case"}),
            ("pixel 8 cover with card slot", {"phone": "Pixel 8", "feature": "Card Holder"}),
            ("shockproof iphone 14 cover", {"phone": "iPhone 14", "kind": "Rugged Case"}),
            (
                "clear magsafe case iphone 15",
                {"phone": "iPhone 15", "kind": "Clear Case", "feature": "MagSafe Compatible"},
            ),
            (
                "shieldcraft armor pro galaxy s24",
                {"brand": "Shieldcraft", "model": "Armor Pro", "phone": "Galaxy S24"},
            ),
            ("pink phone case iphone 14", {"phone": "iPhone 14", "color": "Pink"}),
            ("pixel 8 phone case with stand", {"phone": "Pixel 8", "feature": "Kickstand"}),
            ("thin iphone 15 pro max case", {"phone": "iPhone 15 Pro Max", "kind": "Slim Case"}),
        ),
    ),
    Category(
        key="wood_stain",
        attrs={
            "kind": (
                "Oil-Based Wood Stain",
                "Water-Based Wood Stain",
                "Gel Stain",
                "Wood Stain and Polyurethane in One",
                "Exterior Deck Stain",
            ),
            "color": (
                "Dark Walnut",
                "Golden Oak",
                "Ebony",
                "Classic Gray",
                "Natural",
                "Red Mahogany",
                "Espresso",
                "Weathered Oak",
            ),
            "size": ("8 fl oz", "1 Quart", "1 Gallon"),
            "feature": (
                "Fast Drying",
                "Low VOC",
                "Penetrating Formula",
                "Semi-Transparent",
                "One Coat Coverage",
            ),
        },
        brands={
            "Grainworks": (),
            "Timberline Finishes": (),
            "Oakhaven": (),
            "Cedarcoat": (),
            "Hearthwood": (),
        },
        title="{brand} {kind}, {color}, {size}, {feature}",
        extras=("",),
        bullets=(
            "RICH COLOR: Enhances the natural grain of bare wood with a {color_lc} tone in one or two coats.",
            "EASY APPLICATION: Apply with a brush, foam applicator or lint-free rag and wipe off the excess.",
            "VERSATILE: Ideal for doors, trim, tables, chairs and other wood projects.",
            "EVEN FINISH: Formulated to resist blotching on pine, oak, maple and birch.",
            "CLEAN UP: Brushes and spills clean up easily; see label for full directions.",
        ),
        descriptions=(
            "{brand} {kind} brings out the beauty of wood grain with long-lasting color.",
            "Suited to doors, trim, tables, chairs and other wood projects.",
            "Stir thoroughly before and during use.",
            "For best results apply to clean, bare wood sanded with 220-grit sandpaper.",
        ),
        complements=(
            "Foam Brush Set, 20 Pieces",
            "Lint-Free Staining Cloths, 12 Pack",
            "Clear Satin Polyurethane, 1 Quart",
            "Pre-Stain Wood Conditioner",
            "220 Grit Sandpaper Sheets, 25 Pack",
        ),
        complement_target="Wood Stain",
        avoid=("dye", "tint", "grey", "sealer", "fence", "cabinets", "furniture", "quick", "poly"),
        queries=(
            ("dark walnut wood stain", {"color": "Dark Walnut"}),
            ("gel stain for kitchen cabinets", {"kind": "Gel Stain"}),
            ("ebony stain quart", {"color": "Ebony", "size": "1 Quart"}),
            ("water based stain low voc", {"kind": "Water-Based Wood Stain", "feature": "Low VOC"}),
            ("grey wood dye", {"color": "Classic Gray"}),
            ("fence and deck sealer tint", {"kind": "Exterior Deck Stain"}),
            (
                "timberline finishes golden oak 1 gallon",
                {"brand": "Timberline Finishes", "color": "Golden Oak", "size": "1 Gallon"},
            ),
            ("quick dry stain for furniture", {"feature": "Fast Drying"}),
            (
                "stain and poly in one espresso",
                {"kind": "Wood Stain and Polyurethane in One", "color": "Espresso"},
            ),
            ("oakhaven wood stain", {"brand": "Oakhaven"}),
        ),
    ),
    Category(
        key="backpacks",
        attrs={
            "kind": (
                "Laptop Backpack",
                "Hiking Daypack",
                "Travel Backpack",
                "School Backpack",
                "Rolling Backpack",
            ),
            "capacity": ("20L", "28L", "35L", "40L"),
            "laptop": ("13 Inch", "15.6 Inch", "17 Inch"),
            "material": ("Water Resistant Nylon", "Recycled Polyester", "Canvas", "Vegan Leather"),
            "feature": (
                "USB Charging Port",
                "Anti-Theft Zipper",
                "TSA Friendly",
                "Hydration Compatible",
                "Water Bottle Pockets",
            ),
            "color": ("Black", "Grey", "Navy", "Olive Green", "Burgundy", "Charcoal"),
        },
        brands={
            "Trekora": (),
            "Urbanfold": ("Metro",),
            "Ridgeway Supply": (),
            "Nomadic Co": ("Voyager",),
            "Packwell": (),
        },
        title="{brand} {model} {kind} {capacity}, Fits {laptop} Laptop, {material}, {feature}, {color}",
        extras=("",),
        bullets=(
            "ORGANIZED STORAGE: A padded laptop sleeve, tablet pocket and front organizer keep cables, pens and keys in place.",
            "COMFORT: A breathable mesh back panel and padded shoulder straps reduce strain on long days.",
            "DURABLE BUILD: Made of {material_lc} with heavy-duty zippers and reinforced stitching.",
            "LUGGAGE STRAP: Slides over a suitcase handle for easy trips through the airport.",
            "SPACIOUS: The {capacity} main compartment holds clothes, books, a lunch box and more.",
            "WARRANTY: Every {brand} bag is covered by a lifetime warranty against manufacturing defects.",
        ),
        descriptions=(
            "The {brand} {kind_lc} is built for busy days on the go.",
            "It fits laptops up to {laptop_lc} and keeps devices protected with a padded sleeve.",
            "This one is {color_lc}.",
            "Spot clean with a damp cloth.",
        ),
        complements=(
            "Packing Cubes, 6 Piece Set",
            "TSA Approved Luggage Lock, 2 Pack",
            "Padded Laptop Sleeve, 15.6 Inch",
            "Insulated Water Bottle, 24 oz",
            "Rain Cover for Backpacks",
        ),
        complement_target="Backpacks",
        avoid=("rucksack", "bookbag", "flights", "college", "hikes", "kids"),
        queries=(
            ("laptop backpack 17 inch", {"kind": "Laptop Backpack", "laptop": "17 Inch"}),
            ("rucksack for day hikes", {"kind": "Hiking Daypack"}),
            ("carry on bag for flights", {"kind": "Travel Backpack", "feature": "TSA Friendly"}),
            ("anti theft laptop backpack", {"kind": "Laptop Backpack", "feature": "Anti-Theft Zipper"}),
            ("backpack with usb charging port", {"feature": "USB Charging Port"}),
            ("40l travel backpack", {"kind": "Travel Backpack", "capacity": "40L"}),
            ("canvas bookbag for college", {"kind": "School Backpack", "material": "Canvas"}),
            ("trekora backpack", {"brand": "Trekora"}),
            ("burgundy school backpack", {"kind": "School Backpack", "color": "Burgundy"}),
            ("kids rolling backpack with wheels", {"kind": "Rolling Backpack"}),
        ),
    ),
    Category(
        key="fragrance",
        attrs={
            "kind": (
                "Eau de Parfum Spray",
                "Eau de Toilette Spray",
                "Body Mist Spray",
                "Cologne Spray",
                "Fragrance Oil Roll-On",
            ),
            "scent": (
                "Vanilla Amber",
                "Fresh Citrus",
                "Rose and Peony",
                "Sandalwood",
                "Ocean Breeze",
                "Lavender Musk",
            ),
            "audience": ("for Women", "for Men", "Unisex"),
            "size": ("0.33 Fl Oz Travel Size", "1 Fl Oz", "1.7 Fl Oz", "3.4 Fl Oz"),
        },
        brands={
            "Maison Lune": (),
            "Aveline": (),
            "Solenne": (),
            "Noir Atelier": (),
            "Bloomhaus": (),
        },
        title="{brand} {scent} {kind} {audience}, {size}",
        extras=("",),
        bullets=(
            "SIGNATURE SCENT: Opens with bright top notes and settles into a warm {scent_lc} base.",
            "LONG LASTING: A concentrated formula that wears beautifully from morning to evening.",
            "ELEGANT BOTTLE: A weighted glass bottle with a fine finish.",
            "CLEAN INGREDIENTS: Vegan, cruelty free and made without parabens or phthalates.",
            "GIFT READY: Arrives in an elegant box, a thoughtful gift for birthdays and holidays.",
            "HOW TO WEAR: Apply to pulse points such as wrists and neck.",
        ),
        descriptions=(
            "{brand} {scent} is a {scent_lc} fragrance with a soft, modern finish.",
            "Notes of bergamot, white florals and musk unfold over the course of the day.",
            "Each bottle is made in France.",
            "Layer with the matching body lotion for a longer-lasting trail.",
        ),
        complements=(
            "Unscented Body Lotion, 8 Fl Oz",
            "Refillable Travel Atomizer Spray Bottle, 2 Pack",
            "Moisturizing Shower Gel, 16 Fl Oz",
            "Mirrored Vanity Tray for Fragrance Bottles",
        ),
        complement_target="Fragrance",
        avoid=("perfume", "smells", "beach", "purse", "small"),
        queries=(
            ("travel size fragrance spray", {"size": "0.33 Fl Oz Travel Size"}),
            ("vanilla perfume for women", {"scent": "Vanilla Amber", "audience": "for Women"}),
            (
                "mens cologne 3.4 oz",
                {"kind": "Cologne Spray", "audience": "for Men", "size": "3.4 Fl Oz"},
            ),
            ("maison lune eau de parfum", {"brand": "Maison Lune", "kind": "Eau de Parfum Spray"}),
            (
                "body spray that smells like the beach",
                {"kind": "Body Mist Spray", "scent": "Ocean Breeze"},
            ),
            ("unisex sandalwood fragrance", {"audience": "Unisex", "scent": "Sandalwood"}),
            (
                "roll on perfume oil lavender",
                {"kind": "Fragrance Oil Roll-On", "scent": "Lavender Musk"},
            ),
            (
                "aveline rose and peony 1.7 oz",
                {"brand": "Aveline", "scent": "Rose and Peony", "size": "1.7 Fl Oz"},
            ),
            ("citrus eau de toilette", {"kind": "Eau de Toilette Spray", "scent": "Fresh Citrus"}),
            ("small perfume for purse", {"size": "0.33 Fl Oz Travel Size"}),
        ),
    ),
    Category(
        key="storage_bins",
        attrs={
            "kind": (
                "Storage Bin with Lid",
                "Fabric Storage Cube",
                "Stackable Plastic Storage Bin",
                "Under Bed Storage Container",
                "Wicker Storage Basket",
            ),
            "size": ("11 Inch", "13 Inch", "16 Inch", "20 Inch", "24 Inch"),
            "pack": ("1 Pack", "2 Pack", "4 Pack", "6 Pack"),
            "feature": ("Latching Lid", "Sturdy Handles", "Foldable", "Built-in Wheels"),
            "color": ("Clear", "White", "Grey", "Black", "Beige", "Navy"),
        },
        brands={
            "Stashly": (),
            "Homevale": (),
            "Clearbox": (),
            "Tidynest": (),
            "Nookworth": (),
        },
        title="{brand} {size} {kind}, {feature}, {color}, {pack}",
        extras=("",),
        bullets=(
            "GENEROUS CAPACITY: Measures {size_lc} wide with room for toys, clothes, tools and seasonal decor.",
            "STACKS NEATLY: Uniform sizing lets bins stack or sit side by side to make the most of your space.",
            "DURABLE: Sturdy construction keeps its shape even when full.",
            "EASY CARE: Wipe clean with a damp cloth.",
            "MULTI-PURPOSE: Works in the garage, pantry, playroom or laundry room.",
            "VALUE PACK: Includes {pack_lc} so you can tidy a whole room at once.",
        ),
        descriptions=(
            "Bring order to any room with the {brand} {kind_lc}.",
            "Each one measures {size_lc} and is sized to fit standard shelving units.",
            "Store holiday decorations, craft supplies or off-season clothing.",
            "Ships nested to reduce packaging.",
        ),
        complements=(
            "Adhesive Label Holders, 24 Pack",
            "Chalkboard Labels with Chalk Marker",
            "Non-Adhesive Shelf Liner, 12 Inch x 20 Feet",
            "Steel Wire Shelving Unit, 4 Tier",
            "Vacuum Storage Bags, 6 Pack",
        ),
        complement_target="Storage Bins",
        avoid=("tote", "organizer", "cubby", "closet", "woven", "shelves"),
        queries=(
            ("20 inch storage bin", {"size": "20 Inch"}),
            (
                "clear storage bins with lids 6 pack",
                {"kind": "Storage Bin with Lid", "color": "Clear", "pack": "6 Pack"},
            ),
            (
                "under bed storage with wheels",
                {"kind": "Under Bed Storage Container", "feature": "Built-in Wheels"},
            ),
            ("foldable fabric cubes", {"kind": "Fabric Storage Cube", "feature": "Foldable"}),
            ("closet cubby organizer", {"kind": "Fabric Storage Cube"}),
            (
                "heavy duty tote with latching lid",
                {"kind": "Stackable Plastic Storage Bin", "feature": "Latching Lid"},
            ),
            ("stashly 16 inch bin", {"brand": "Stashly", "size": "16 Inch"}),
            ("woven baskets for shelves", {"kind": "Wicker Storage Basket"}),
            ("grey fabric storage cube", {"kind": "Fabric Storage Cube", "color": "Grey"}),
            ("clearbox storage containers", {"brand": "Clearbox"}),
        ),
    ),
    Category(
        key="kitchen_knives",
        attrs={
            "kind": (
                "Chef's Knife",
                "Santoku Knife",
                "Paring Knife",
                "Bread Knife",
                "Knife Block Set",
                "Steak Knife Set",
            ),
            "size": ("3.5 Inch", "5 Inch", "7 Inch", "8 Inch", "10 Inch"),
            "material": (
                "German High Carbon Stainless Steel",
                "Japanese VG10 Damascus Steel",
                "Ceramic Blade",
            ),
            "feature": ("Ergonomic Pakkawood Handle", "Full Tang", "Razor Sharp Edge", "Gift Box"),
            "color": ("Black", "Walnut", "Red", "Silver", "Blue"),
        },
        brands={
            "Kensho": ("Pro Series", "Classic"),
            "Hollow & Hearth": (),
            "Edgeworth": ("E-200",),
            "Takumi Forge": ("Kaze",),
            "Steelmark": (),
        },
        title="{brand} {model} {size} {kind}, {material}, {feature}, {color}",
        extras=("",),
        bullets=(
            "PRECISION EDGE: Hand-sharpened to a 15-degree angle per side for clean, effortless slicing.",
            "BALANCED DESIGN: A comfortable handle and balanced weight reduce fatigue during long prep sessions.",
            "BUILT TO LAST: Forged from {material_lc} that resists rust, stains and corrosion.",
            "VERSATILE: Handles dicing, mincing, slicing and everyday kitchen prep.",
            "CARE: Hand wash and dry immediately to keep the blade in top condition.",
            "LIFETIME WARRANTY: {brand} stands behind every knife it makes.",
        ),
        descriptions=(
            "The {brand} {kind_lc} is a dependable tool for home cooks and professionals alike.",
            "Its {size_lc} blade is made from {material_lc}.",
            "Store in a knife block or on a magnetic strip to protect the edge.",
            "Arrives in a gift-ready box.",
        ),
        complements=(
            "3-Stage Kitchen Knife Sharpener",
            "Bamboo Cutting Board, Large",
            "Magnetic Knife Strip, 16 Inch",
            "Honing Steel, 10 Inch",
            "Cut Resistant Gloves, Level 5",
        ),
        complement_target="Kitchen Knives",
        avoid=("peeling", "fruit", "chopping", "vegetables", "small"),
        queries=(
            ("8 inch chef knife", {"kind": "Chef's Knife", "size": "8 Inch"}),
            (
                "damascus santoku",
                {"kind": "Santoku Knife", "material": "Japanese VG10 Damascus Steel"},
            ),
            ("knife for cutting bread", {"kind": "Bread Knife"}),
            ("small knife for peeling fruit", {"kind": "Paring Knife"}),
            (
                "kensho pro series chef knife",
                {"brand": "Kensho", "model": "Pro Series", "kind": "Chef's Knife"},
            ),
            ("kitchen knife set with block", {"kind": "Knife Block Set"}),
            ("ceramic paring knife", {"kind": "Paring Knife", "material": "Ceramic Blade"}),
            ("japanese chopping knife for vegetables", {"kind": "Santoku Knife"}),
            ("takumi forge knife", {"brand": "Takumi Forge"}),
            ("steak knives set", {"kind": "Steak Knife Set"}),
        ),
    ),
    Category(
        key="yoga_mats",
        attrs={
            "kind": ("Yoga Mat", "Exercise Mat", "Foldable Travel Yoga Mat", "Pilates Mat"),
            "thickness": ("2mm", "4mm", "6mm", "10mm", "15mm"),
            "material": ("TPE", "Natural Rubber", "Cork", "PVC", "NBR Foam"),
            "feature": ("Alignment Lines", "Carrying Strap", "Extra Wide", "Reversible"),
            "color": ("Purple", "Black", "Teal", "Pink", "Grey", "Sage"),
        },
        brands={
            "Lotusform": (),
            "Asana Lab": (),
            "Zenflex": ("ZF-6",),
            "Groundwell": (),
            "Calma": (),
        },
        title="{brand} {model} {kind}, {thickness} Thick, {material}, {feature}, {extra}, {color}",
        extras=("Non-Slip", "72 x 24 Inch", "Eco Friendly", "Lightweight", ""),
        bullets=(
            "SUPERIOR GRIP: A textured non-slip surface on both sides keeps you steady in every pose.",
            "JOINT SUPPORT: {thickness} of cushioning protects wrists, elbows and hips.",
            "ECO-FRIENDLY: Made from {material_lc}, free of latex and phthalates.",
            "LIGHTWEIGHT: Easy to roll up and take to class, the park or on vacation.",
            "EASY CLEANING: Wipe down with mild soap and water after each session.",
            "VERSATILE: Great for yoga, pilates, core training and meditation.",
        ),
        descriptions=(
            "The {brand} {kind_lc} gives you a stable, comfortable base for practice at home or in the studio.",
            "Measures 72 x 24 inches and {thickness} thick.",
            "The {color_lc} color is fade resistant.",
            "Every mat is tested for durability.",
        ),
        complements=(
            "Yoga Blocks, 2 Pack",
            "Cotton Yoga Strap, 8 ft",
            "Yoga Mat Cleaner Spray",
            "Non-Slip Yoga Towel",
            "Foam Roller, 18 Inch",
        ),
        complement_target="Yoga Mats",
        avoid=("stretching", "knees", "floor", "plane", "thin", "hard"),
        queries=(
            ("yoga mat", {"kind": "Yoga Mat"}),
            ("thick yoga mat 10mm", {"kind": "Yoga Mat", "thickness": "10mm"}),
            ("cork yoga mat", {"material": "Cork"}),
            (
                "mat for stretching on hard floor that protects knees",
                {"kind": "Exercise Mat", "thickness": "15mm"},
            ),
            ("foldable yoga mat for travel", {"kind": "Foldable Travel Yoga Mat"}),
            (
                "purple yoga mat with alignment lines",
                {"color": "Purple", "feature": "Alignment Lines"},
            ),
            ("lotusform natural rubber mat", {"brand": "Lotusform", "material": "Natural Rubber"}),
            ("extra wide exercise mat", {"kind": "Exercise Mat", "feature": "Extra Wide"}),
            ("zenflex 6mm", {"brand": "Zenflex", "thickness": "6mm"}),
            (
                "thin mat to take on a plane",
                {"kind": "Foldable Travel Yoga Mat", "thickness": "2mm"},
            ),
        ),
    ),
)


# --------------------------------------------------------------------------- helpers


def pick(rng: np.random.Generator, options):
    """One element of a non-empty sequence, drawn from ``rng``."""
    return options[int(rng.integers(len(options)))]


def tidy(text: str) -> str:
    """Collapse the gaps left by empty template fields ("A  B, , C" -> "A B, C")."""
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s+([,.:])", r"\1", text)
    text = re.sub(r",(\s*,)+", ",", text)
    return text.strip(" ,")


def fill(template: str, values: dict[str, str]) -> str:
    """Format ``template`` with ``values`` plus ``NAME_lc`` / ``NAME_uc`` case variants."""
    cased = {}
    for name, value in values.items():
        cased[name] = value
        cased[f"{name}_lc"] = value.lower()
        cased[f"{name}_uc"] = value.upper()
    return tidy(template.format(**cased))


def new_product_id(rng: np.random.Generator, used: set[str]) -> str:
    """A fresh ASIN-like id: "B0" followed by 8 upper-case letters or digits."""
    while True:
        suffix = "".join(ASIN_ALPHABET[i] for i in rng.integers(len(ASIN_ALPHABET), size=8))
        product_id = "B0" + suffix
        if product_id not in used:
            used.add(product_id)
            return product_id


def sample_sentences(rng: np.random.Generator, templates, low: int, high: int) -> list[str]:
    """Between ``low`` and ``high`` distinct templates, in their original order."""
    n = int(rng.integers(low, min(high, len(templates)) + 1))
    chosen = sorted(rng.choice(len(templates), size=n, replace=False).tolist())
    return [templates[i] for i in chosen]


# --------------------------------------------------------------------------- attributes


def sample_attributes(rng: np.random.Generator, cat: Category, fixed: dict[str, str]) -> dict:
    """Random attribute values for one product of ``cat``, overridden by ``fixed``."""
    values = {name: pick(rng, options) for name, options in cat.attrs.items()}
    values["brand"] = fixed.get("brand") or pick(rng, tuple(cat.brands))
    models = cat.brands[values["brand"]]
    values["model"] = pick(rng, models) if models and rng.random() < 0.6 else ""
    values["extra"] = pick(rng, cat.extras)
    values.update(fixed)
    return values


def violate(rng: np.random.Generator, cat: Category, values: dict, key: str) -> dict:
    """Copy of ``values`` with attribute ``key`` changed to a different value (for S)."""
    values = dict(values)
    if key == "model":
        options = tuple(m for m in cat.brands[values["brand"]] if m != values["model"])
        if options:
            values["model"] = pick(rng, options)
            return values
        key = "brand"  # single-model brand: a different brand is the substitute
    if key == "brand":
        values["brand"] = pick(rng, tuple(b for b in cat.brands if b != values["brand"]))
        models = cat.brands[values["brand"]]
        values["model"] = pick(rng, models) if models else ""
        return values
    values[key] = pick(rng, tuple(v for v in cat.attrs[key] if v != values[key]))
    return values


# --------------------------------------------------------------------------- products


def apply_nulls(rng: np.random.Generator, product: dict) -> dict:
    """Blank out optional fields at roughly the real data's null rates."""
    for column, rate in NULL_RATES.items():
        if rng.random() < rate:
            product[column] = None
    return product


def render_product(rng: np.random.Generator, cat: Category, values: dict, used: set[str]) -> dict:
    """A products-table row for a ``cat`` product with attribute ``values``."""
    bullets = sample_sentences(rng, cat.bullets, 3, 5)
    sentences = sample_sentences(rng, cat.descriptions, 1, 4)
    product = {
        "product_id": new_product_id(rng, used),
        "product_title": fill(cat.title, values),
        "product_description": " ".join(fill(s, values) for s in sentences),
        "product_bullet_point": "\n".join(fill(b, values) for b in bullets),
        "product_brand": values["brand"],
        "product_color": values.get("color"),
        "product_locale": LOCALE,
        "category": cat.key,
    }
    return apply_nulls(rng, product)


ACCESSORY_BULLETS = (
    "QUALITY MATERIALS: Durable construction that holds up to daily use.",
    "EASY TO USE: Ready to use straight out of the box, no tools required.",
    "MADE TO MATCH: A practical companion for your {target}.",
    "COMPACT: Small enough to keep in a drawer, bag or glove box.",
    "SATISFACTION GUARANTEE: Contact us anytime with a question about your order.",
)
ACCESSORY_DESCRIPTIONS = (
    "This {item_lc} from {brand} is a simple upgrade for everyday use.",
    "Pairs well with your {target}.",
    "Backed by a 90-day hassle-free return policy.",
)


def render_accessory(
    rng: np.random.Generator, cat: Category, used: set[str], target: str | None = None
) -> dict:
    """A products-table row for an accessory (complement) of ``cat``."""
    target = target or cat.complement_target
    values = {
        "brand": pick(rng, ACCESSORY_BRANDS),
        "item": pick(rng, cat.complements).format(target=target),
        "target": target,
    }
    color = pick(rng, ACCESSORY_COLORS) if rng.random() < 0.8 else None
    product = {
        "product_id": new_product_id(rng, used),
        "product_title": fill("{brand} {item}", values),
        "product_description": " ".join(
            fill(s, values) for s in sample_sentences(rng, ACCESSORY_DESCRIPTIONS, 1, 3)
        ),
        "product_bullet_point": "\n".join(
            fill(b, values) for b in sample_sentences(rng, ACCESSORY_BULLETS, 2, 4)
        ),
        "product_brand": values["brand"],
        "product_color": color,
        "product_locale": LOCALE,
        "category": f"{cat.key}_accessories",
    }
    return apply_nulls(rng, product)


# --------------------------------------------------------------------------- judgments


def label_counts(rng: np.random.Generator) -> dict[str, int]:
    """How many E/S/C/I judgments one query gets (at least ``MIN_EXACT`` E)."""
    total = int(rng.integers(JUDGMENTS_PER_QUERY[0], JUDGMENTS_PER_QUERY[1] + 1))
    counts = dict(zip(LABELS, rng.multinomial(total, LABEL_SHARES).tolist()))
    counts["E"] = max(counts["E"], MIN_EXACT)
    return counts


def irrelevant_product(
    rng: np.random.Generator,
    cat: Category,
    catalogue: list[dict],
    used: set[str],
    taken: set[str],
) -> dict:
    """An I product: reuse one from an unrelated category, or make a new one.

    ``taken`` holds the ids already judged for this query, which are not reused.
    """
    if catalogue and rng.random() < IRRELEVANT_REUSE_PROB:
        product = catalogue[int(rng.integers(len(catalogue)))]
        if not product["category"].startswith(cat.key) and product["product_id"] not in taken:
            taken.add(product["product_id"])
            return product
    others = tuple(c for c in CATEGORIES if c.key != cat.key)
    other = pick(rng, others)
    return render_product(rng, other, sample_attributes(rng, other, {}), used)


def judge_query(
    rng: np.random.Generator,
    cat: Category,
    constraints: dict[str, str],
    catalogue: list[dict],
    used: set[str],
) -> list[tuple[dict, str]]:
    """Judged (product, label) pairs for one query, in random order."""
    counts = label_counts(rng)
    keys = tuple(constraints)
    target = constraints.get(cat.compat_attr) if cat.compat_attr else None
    judged = []
    for _ in range(counts["E"]):
        judged.append((render_product(rng, cat, sample_attributes(rng, cat, constraints), used), "E"))
    for _ in range(counts["S"]):
        values = violate(rng, cat, sample_attributes(rng, cat, constraints), pick(rng, keys))
        judged.append((render_product(rng, cat, values, used), "S"))
    for _ in range(counts["C"]):
        judged.append((render_accessory(rng, cat, used, target), "C"))
    taken: set[str] = set()
    for _ in range(counts["I"]):
        judged.append((irrelevant_product(rng, cat, catalogue, used, taken), "I"))
    order = rng.permutation(len(judged))
    return [judged[i] for i in order]


# --------------------------------------------------------------------------- dataset


def validate_categories() -> None:
    """Fail early on a query constraint that names an unknown attribute value."""
    texts = [text for cat in CATEGORIES for text, _ in cat.queries]
    assert len(texts) == len(set(texts)), "duplicate query text"
    for cat in CATEGORIES:
        for text, constraints in cat.queries:
            for key, value in constraints.items():
                if key == "brand":
                    ok = value in cat.brands
                elif key == "model":
                    ok = value in cat.brands[constraints["brand"]]
                else:
                    ok = value in cat.attrs.get(key, ())
                assert ok, f"{cat.key}: query {text!r} has unknown {key}={value!r}"


def check_paraphrase_words(products: list[dict]) -> None:
    """Paraphrase words must never occur in their own category's product text."""
    by_key = {cat.key: cat for cat in CATEGORIES}
    for product in products:
        cat = by_key.get(product["category"])
        if cat is None:
            continue
        text = " ".join(
            product[c] or ""
            for c in ("product_title", "product_description", "product_bullet_point")
        ).lower()
        for word in cat.avoid:
            assert not re.search(rf"\b{re.escape(word)}\b", text), (
                f"{cat.key} product text contains paraphrase word {word!r}: {text[:80]}"
            )


def build_demo(seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The (examples, products) tables of the demo catalogue."""
    validate_categories()
    rng = np.random.default_rng(seed)
    queries = [(cat, text, cons) for cat in CATEGORIES for text, cons in cat.queries]
    queries = [queries[i] for i in rng.permutation(len(queries))]
    query_ids = np.sort(rng.choice(np.arange(1, 130_000), size=len(queries), replace=False))

    used: set[str] = set()
    catalogue: list[dict] = []
    known: set[str] = set()
    rows = []
    for query_id, (cat, text, constraints) in zip(query_ids.tolist(), queries):
        split = "test" if rng.random() < TEST_SHARE else "train"
        small = int(rng.random() < SMALL_VERSION_SHARE)
        for product, label in judge_query(rng, cat, constraints, catalogue, used):
            if product["product_id"] not in known:
                known.add(product["product_id"])
                catalogue.append(product)
            rows.append((text, query_id, product["product_id"], label, small, split))

    for _ in range(N_DISTRACTORS):
        cat = pick(rng, CATEGORIES)
        if rng.random() < 0.15:
            catalogue.append(render_accessory(rng, cat, used))
        else:
            catalogue.append(render_product(rng, cat, sample_attributes(rng, cat, {}), used))

    check_paraphrase_words(catalogue)
    return examples_frame(rows), products_frame(catalogue)


def examples_frame(rows: list[tuple]) -> pd.DataFrame:
    """Examples table in the official column order."""
    df = pd.DataFrame(
        rows, columns=["query", "query_id", "product_id", "esci_label", "small_version", "split"]
    )
    df.insert(0, "example_id", np.arange(len(df), dtype=np.int64))
    df.insert(4, "product_locale", LOCALE)
    df.insert(7, "large_version", np.int64(1))
    return df[EXAMPLES_SCHEMA.names].astype({"small_version": "int64", "large_version": "int64"})


def products_frame(catalogue: list[dict]) -> pd.DataFrame:
    """Products table in the official column order, sorted by product_id."""
    df = pd.DataFrame(catalogue)[PRODUCTS_SCHEMA.names]
    return df.sort_values("product_id", kind="stable").reset_index(drop=True)


def write_parquet(df: pd.DataFrame, schema: pa.Schema, path: Path) -> None:
    """Write ``df`` with a fixed schema and writer settings (byte-reproducible)."""
    table = pa.Table.from_pandas(df, schema=schema, preserve_index=False)
    pq.write_table(table, path, compression="snappy")


def summary(examples: pd.DataFrame, products: pd.DataFrame) -> str:
    """One-line description of the generated files."""
    counts = Counter(examples["esci_label"])
    labels = " ".join(f"{label}={counts[label]}" for label in LABELS)
    judged = examples["product_id"].nunique()
    return (
        f"demo: {len(examples)} judgments, {examples['query_id'].nunique()} queries, "
        f"{len(products)} products ({judged} judged, {len(products) - judged} unjudged), {labels}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    args = parser.parse_args(argv)

    examples, products = build_demo()
    args.out.mkdir(parents=True, exist_ok=True)
    write_parquet(examples, EXAMPLES_SCHEMA, args.out / EXAMPLES_FILE)
    write_parquet(products, PRODUCTS_SCHEMA, args.out / PRODUCTS_FILE)
    print(summary(examples, products))


if __name__ == "__main__":
    main()
