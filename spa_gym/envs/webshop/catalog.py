"""WebShop's product catalog: a seeded generator of the raw data files and the loader that reads them.

**Raw files** (the real WebShop data, or what :func:`generate_raw` writes in the same schemas):

* ``items_shuffle*.json``: a list of scraped products (``asin, name, full_description,
  small_description, pricing, images, product_category, query, category, customization_options`` and
  keys the loader drops such as ``brand``, ``product_information``);
* ``items_ins_v2*.json``: a dict asin -> ``{"attributes": [...], "instruction"?: str,
  "instruction_attributes"?: [...]}`` (the synthetic instruction is present for a share of products);
* ``items_human_ins.json``: a dict asin -> list of crowd-sourced instruction records
  (``asin, instruction, instruction_attributes, instruction_options, attributes, options, worker_id,
  assignment_id``);
* ``title_nouns.json`` (generated catalogs only): asin -> the nouns of the product's title, so the
  reward's title score needs no spaCy.

**Loader** (:func:`load_raw_catalog`): WebShop's ``load_products`` transformations. The product list is
cut to ``num_products`` *before* de-duplication; asins that are ``"nan"``, longer than 10 characters or
repeated are skipped; ``Title`` = ``name``, ``Description`` = ``full_description``, ``BulletPoints`` =
``small_description`` (a string becomes a one-element list), ``query`` is lower-cased and stripped;
``pricing`` strings are split on ``$`` and every part keeps only digits and dots (``"$1,299.00 - $1,499.99"``
-> ``[1299.0, 1499.99]``, display ``"$1299.0 to $1499.99"``), a missing price gives ``[100.0]`` and
``"$100.0"``; ``customization_options`` become ``options``: names lower-cased, each value stripped, ``/``
replaced by ``" | "`` and lower-cased; ``Attributes`` come from ``items_ins_v2`` (``["DUMMY_ATTR"]``
when absent); ``Rating`` is ``"N.A."`` and ``Reviews`` ``[]``. Products come out in the loader format of
the fixtures (keys ``asin, name, Title, query, category, product_category, Description, BulletPoints,
Attributes, options, Price, pricing, Rating, Reviews``). Deviations, documented: image fields
(``MainImage``, ``option_to_image``) and the raw duplicates of the loaded fields are not kept (no page
in text mode shows them), and the instructions the original attaches to product dicts
(``instructions`` / ``instruction_text``) live on :class:`Catalog` instead, where :mod:`.goals` reads
them; a product absent from ``items_ins_v2`` simply has no synthetic instruction (the original raises
``KeyError`` there). Malformed files raise :class:`CatalogFileError` naming the file, the record and
the field.

**Generator** (:func:`generate_raw`): five categories (beauty, electronics, fashion, garden, grocery),
60 queries with several breadcrumbs each, titles "Brand + modifier + noun phrase + attributes + spec"
whose nouns repeat within a query, 0-3 option groups, log-normal prices (a share as ``"$lo - $hi"``
ranges, a few missing), about 3 attributes a product, mostly written into the title, bullets or
description. Products come in families: a goal product and 1-3 near-misses of the same query (another
option set, a missing attribute, an over-budget price or a sibling breadcrumb). Only goal products get
instructions, and every instruction is satisfiable: its attributes are annotated on the product, its
options are values the product offers (no value under two option names) and colour normalisation
keeps them matchable.

:func:`generated_catalog` caches generated catalogs on disk (``$SPA_GYM_HOME/webshop``, default
``~/.cache/spa_gym/webshop``, one folder per ``(generator version, size, seed)``, written atomically)
and in the process (every env shares one :class:`Catalog`); :func:`real_catalog` does the same in the
process for real files.

Example:
    >>> items, ins, human, nouns = generate_raw(20, seed=1)
    >>> catalog = catalog_from_raw(items, ins, human, nouns, key="example")
    >>> len(catalog), sorted(catalog.products[0])[:4]
    (20, ['Attributes', 'BulletPoints', 'Description', 'Price'])
    >>> catalog.products[0]["Rating"], catalog.products[0]["category"] in CATEGORIES
    ('N.A.', True)
"""

from __future__ import annotations

import gc
import hashlib
import json
import math
import os
import pickle
import re
import shutil
import threading
import uuid
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from random import Random
from typing import Any

GENERATOR_VERSION = "1"
"""Bumped whenever the generator's output or the loaded form changes (it keys the on-disk cache)."""

DEFAULT_CATALOG_SEED = 0
"""The seed of the default generated catalog."""

SIZES: dict[str, int] = {"tiny": 100, "small": 1000, "medium": 10_000, "large": 100_000}
"""Named catalog sizes (``small`` mirrors the 1k setting of AgentGym and verl-agent)."""

CATEGORIES: tuple[str, ...] = ("beauty", "electronics", "fashion", "garden", "grocery")
"""WebShop's five top-level categories."""

PRODUCT_KEYS: tuple[str, ...] = (
    "asin", "name", "Title", "query", "category", "product_category", "Description", "BulletPoints",
    "Attributes", "options", "Price", "pricing", "Rating", "Reviews",
)  # fmt: skip
"""Keys of a loaded product, in order (the fixtures' loader format)."""

RAW_FILES: dict[str, str] = {
    "items": "items_shuffle.json",
    "attributes": "items_ins_v2.json",
    "human": "items_human_ins.json",
    "nouns": "title_nouns.json",
}
"""File names of a generated catalog folder."""

PROCESSED_FILE = "catalog.pickle"
"""The loaded form of a generated catalog, cached beside its raw files (a fast second start)."""

DUMMY_ATTR = "DUMMY_ATTR"
MISSING_PRICE = 100.0


class CatalogFileError(ValueError):
    """A raw catalog file is malformed; the message names the file, the record and the field."""


# ---------------------------------------------------------------------------------------------
# Vocabulary of the generator
# ---------------------------------------------------------------------------------------------

#: option kind -> (raw option name, raw values). Values are written as scraped (mixed case, ``/``);
#: the loader lower-cases them and turns ``/`` into `` | ``. Every value keeps a colour-normalised
#: form that still matches itself (tests check it with the reward's ``normalize_color``).
OPTION_KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "color_apparel": ("Color", (
        "White", "Black", "Navy Blue", "Heather Grey", "Khaki", "Burgundy", "Olive Green", "Light Pink",
        "Charcoal", "Beige", "Brown", "Red", "Royal Blue", "Dark Green", "Black/White", "Light Blue",
        "Purple", "Yellow")),
    "color_home": ("Color", (
        "Grey", "Light Grey", "Dark Grey", "Beige", "Cream", "Navy", "Black", "White", "Brown", "Espresso",
        "Teal", "Green", "Walnut", "Natural", "Blue", "Grey/White", "Rustic Brown")),
    "color_electronics": ("Color", (
        "Black", "White", "Silver", "Space Grey", "Rose Gold", "Midnight Blue", "Blue", "Red", "Pink",
        "Green", "Purple", "Black/Red")),
    "color_beauty": ("Color", (
        "Nude", "Ruby Red", "Coral", "Berry", "Mauve", "Plum", "Pink", "Cherry", "Wine", "Burgundy", "Peach",
        "Rose", "Fuchsia", "Classic Red")),
    "color_basic": ("Color", ("Black", "White", "Clear", "Blue", "Pink", "Green", "Grey", "Purple")),
    "size_apparel": ("Size", ("X-Small", "Small", "Medium", "Large", "X-Large", "XX-Large", "3X-Large")),
    "size_shoe": ("Size", (
        "6", "6.5", "7", "7.5", "8", "8.5", "9", "9.5", "10", "10.5", "11", "12", "8 Wide", "9 Wide")),
    "size_liquid": ("Size", (
        "1 Fl Oz (Pack of 1)", "2 Fl Oz (Pack of 2)", "3.4 Fl Oz (Pack of 1)", "6.76 Fl Oz (Pack of 1)",
        "8 Ounce", "16 Fl Oz", "33.8 Fl Oz (Pack of 1)")),
    "size_count": ("Size", (
        "6 Count (Pack of 1)", "12 Count (Pack of 1)", "12 Count (Pack of 2)", "24 Count (Pack of 1)",
        "Pack of 3", "Pack of 6", "Pack of 12")),
    "size_snack": ("Size", (
        "1 Ounce (Pack of 24)", "1.5 Ounce (Pack of 12)", "8 Ounce (Pack of 1)", "16 Ounce (Pack of 1)",
        "2 Pound (Pack of 1)", "3 Pound (Pack of 1)")),
    "size_bag": ("Size", ("12 Ounce (Pack of 1)", "12 Ounce (Pack of 2)", "2 Pound (Pack of 1)", "32 Ounce",
                          "5 Pound")),
    "size_bottle": ("Size", ("5 Fl Oz (Pack of 1)", "12 Fl Oz (Pack of 2)", "16 Fl Oz (Pack of 3)", "24 Ounce")),
    "size_box": ("Size", ("10 Ounce", "16 Ounce (Pack of 2)", "18 Ounce (Pack of 4)", "32 Ounce (Pack of 1)")),
    "size_pasta": ("Size", ("16 Ounce (Pack of 4)", "12 Ounce (Pack of 6)", "8 Ounce (Pack of 12)",
                            "1 Pound (Pack of 8)")),
    "size_sofa": ("Size", ("Loveseat", "3-Seat Sofa", "Sectional", "Sofa + Ottoman", "Chair")),
    "size_ottoman": ("Size", ("Small", "Large", "Set of 2", "Round", "Square")),
    "size_rug": ("Size", ("2' x 3'", "3' x 5'", "5' x 7'", "8' x 10'", "2'6\" x 8' Runner")),
    "size_bed": ("Size", ("Twin", "Full", "Queen", "King", "California King")),
    "size_set": ("Size", ("Set of 2", "Set of 4", "Set of 6", "Single")),
    "size_shelf": ("Size", ("3-Tier", "4-Tier", "5-Tier")),
    "size_planter": ("Size", ("6 Inch", "8 Inch", "10 Inch", "12 Inch", "6/8/10 Inch")),
    "size_curtain": ("Size", ('52" x 63"', '52" x 84"', '52" x 95"', '52" x 108"')),
    "size_pillow": ("Size", ("18 x 18 Inch", "20 x 20 Inch", "12 x 20 Inch", "16 x 16 Inch")),
    "size_band": ("Size", ("38mm/40mm/41mm", "42mm/44mm/45mm", "Small", "Large")),
    "size_tv": ("Size", ("26-55 Inch", "32-65 Inch", "42-70 Inch", "37-80 Inch")),
    "length": ("Size", ("3 ft", "6 ft", "10 ft", "15 ft", "25 ft")),
    "pack": ("Item Package Quantity", ("1 Pack", "2 Pack", "3 Pack", "4 Pack")),
    "capacity": ("Capacity", ("32GB", "64GB", "128GB", "256GB", "512GB")),
    "style_phone": ("Style", ("iPhone 13", "iPhone 13 Pro", "iPhone 14", "Galaxy S22", "Galaxy S23", "Pixel 7")),
    "style_electronics": ("Style", ("Pro", "Lite", "Plus", "Max", "Mini")),
    "style_furniture": ("Style", ("Modern", "Farmhouse", "Industrial", "Mid-Century", "Tufted", "Classic")),
    "scent": ("Scent", (
        "Unscented", "Lavender", "Tea Tree", "Eucalyptus", "Coconut", "Vanilla", "Citrus", "Rosemary Mint",
        "Cucumber Melon", "Aloe Vera")),
    "flavor_mint": ("Flavor Name", ("Fresh Mint", "Cool Mint", "Cinnamon", "Charcoal", "Vanilla Mint", "Bubblegum")),
    "flavor_snack": ("Flavor Name", (
        "Original", "Barbecue", "Sea Salt", "Cheddar Cheese", "Honey Mustard", "Sour Cream & Onion", "Ranch",
        "Spicy Cajun")),
    "flavor_bar": ("Flavor Name", (
        "Chocolate Chip", "Peanut Butter", "Cookies & Cream", "Almond", "Mixed Berry", "Salted Caramel",
        "Coconut")),
    "flavor_coffee": ("Flavor Name", (
        "Breakfast Blend", "French Roast", "Vanilla", "Colombian", "Decaf", "House Blend", "Italian Roast")),
    "flavor_tea": ("Flavor Name", (
        "Chamomile", "Earl Grey", "Jasmine", "Hibiscus", "Ginger", "Chai", "English Breakfast")),
    "flavor_candy": ("Flavor Name", ("Milk Chocolate", "Dark Chocolate", "Assorted", "Caramel", "Sour", "Fruit")),
    "flavor_nuts": ("Flavor Name", ("Salted", "Unsalted", "Honey Roasted", "Sea Salt", "Chili Lime", "Raw")),
    "flavor_sauce": ("Flavor Name", ("Original", "Hot", "Mild", "Garlic", "Chipotle", "Smoky")),
    "flavor_cereal": ("Flavor Name", ("Honey Almond", "Cinnamon", "Original", "Apple Cinnamon", "Maple",
                                      "Vanilla Almond")),
    "flavor_jerky": ("Flavor Name", ("Original", "Teriyaki", "Sweet & Spicy", "Hickory", "Black Pepper", "Garlic")),
    "flavor_drink": ("Flavor Name", (
        "Lemon Lime", "Fruit Punch", "Orange", "Grape", "Watermelon", "Blue Raspberry", "Strawberry Kiwi")),
    "flavor_baking": ("Flavor Name", ("Chocolate", "Vanilla", "Buttermilk", "Funfetti", "Red Velvet")),
}  # fmt: skip


@dataclass(frozen=True)
class QuerySpec:
    """One product type: its scrape query, breadcrumbs, noun phrases, attributes, option kinds, price.

    In ``nouns`` the words written Capitalised are the nouns (they feed the title-noun lists),
    lower-case words are modifiers; titles show every word capitalised.
    """

    category: str
    query: str
    breadcrumbs: tuple[str, ...]
    nouns: tuple[str, ...]
    attributes: tuple[str, ...]
    options: tuple[str, ...]
    median_price: float


def _q(category: str, query: str, crumbs: str, nouns: str, attributes: str, options: str, price: float) -> QuerySpec:
    """Compact spec: breadcrumbs, nouns and attributes separated by ``;``, option kinds by spaces."""
    return QuerySpec(
        category,
        query,
        tuple(c.strip().replace(" > ", " › ") for c in crumbs.split(";")),
        tuple(n.strip() for n in nouns.split(";")),
        tuple(a.strip() for a in attributes.split(";")),
        tuple(options.split()),
        price,
    )


QUERIES: tuple[QuerySpec, ...] = (
    # -- beauty -----------------------------------------------------------------------------------
    _q("beauty", "hair treatments",
       "Beauty & Personal Care > Hair Care > Hair & Scalp Treatments > Hair Treatment Oils;"
       "Beauty & Personal Care > Hair Care > Hair & Scalp Treatments > Scalp Treatments;"
       "Beauty & Personal Care > Hair Care > Hair Masks;Health & Household > Health Care > Hair Loss Products",
       "Hair Oil;Hair Mask;Scalp Serum;leave-in Hair Treatment;Hair Growth Serum",
       "argan oil;dry hair;hair growth;damaged hair;tea tree", "scent size_liquid", 18),
    _q("beauty", "shampoo & conditioner",
       "Beauty & Personal Care > Hair Care > Shampoo & Conditioner > Shampoos;"
       "Beauty & Personal Care > Hair Care > Shampoo & Conditioner > Conditioners;"
       "Beauty & Personal Care > Hair Care > Shampoo & Conditioner > Shampoo & Conditioner Sets",
       "Shampoo;Conditioner;Shampoo and Conditioner Set;dry Shampoo",
       "color treated;dry hair;sulfate free;coconut oil;hair growth", "scent size_liquid", 16),
    _q("beauty", "face moisturizers",
       "Beauty & Personal Care > Skin Care > Face > Creams & Moisturizers > Face Moisturizers;"
       "Beauty & Personal Care > Skin Care > Face > Creams & Moisturizers > Night Creams;"
       "Beauty & Personal Care > Skin Care > Face > Treatments & Masks > Serums",
       "Face Moisturizer;Night Cream;Face Cream;hydrating Gel Cream",
       "hyaluronic acid;fine lines;sensitive skin;dry skin;anti aging;oil free", "size_liquid", 22),
    _q("beauty", "refillable containers",
       "Beauty & Personal Care > Tools & Accessories > Bags & Cases > Refillable Containers;"
       "Beauty & Personal Care > Tools & Accessories > Bags & Cases > Travel Bottles;"
       "Beauty & Personal Care > Tools & Accessories > Refillable Containers > Spray Bottles",
       "Travel Bottles;Spray Bottle;refillable Perfume Atomizer;Cosmetic Jars",
       "leak proof;bpa free;travel bottles;easy carry;fine mist", "color_basic size_count", 11),
    _q("beauty", "nail polish",
       "Beauty & Personal Care > Foot, Hand & Nail Care > Nail Art & Polish > Nail Polish;"
       "Beauty & Personal Care > Foot, Hand & Nail Care > Nail Art & Polish > Gel Nail Polish;"
       "Beauty & Personal Care > Foot, Hand & Nail Care > Nail Art & Polish > Nail Art Kits",
       "Nail Polish;Gel Nail Polish;Nail Polish Set;Top Coat",
       "long lasting;non toxic;quick dry;nail art;gel polish", "color_beauty", 12),
    _q("beauty", "lipstick",
       "Beauty & Personal Care > Makeup > Lips > Lipstick;Beauty & Personal Care > Makeup > Lips > Lip Gloss;"
       "Beauty & Personal Care > Makeup > Lips > Lip Stains",
       "matte Lipstick;Lip Gloss;liquid Lipstick;Lip Stain",
       "long lasting;highly pigmented;cruelty free;lip gloss", "color_beauty", 13),
    _q("beauty", "scrubs & body treatments",
       "Beauty & Personal Care > Skin Care > Body > Scrubs & Body Treatments > Body Scrubs;"
       "Beauty & Personal Care > Skin Care > Body > Scrubs & Body Treatments > Body Treatments;"
       "Beauty & Personal Care > Bath & Bathing Accessories > Bath > Bath Salts",
       "Body Scrub;exfoliating Scrub;Sugar Scrub;Salt Scrub",
       "dead skin;tea tree;natural ingredients;dry skin;essential oils", "scent size_liquid", 15),
    _q("beauty", "eyeshadow",
       "Beauty & Personal Care > Makeup > Eyes > Eyeshadow;Beauty & Personal Care > Makeup > Eyes > Eyeliner;"
       "Beauty & Personal Care > Makeup > Makeup Palettes",
       "Eyeshadow Palette;Cream Eyeshadow;Eyeshadow Stick;Eyeliner Pencil",
       "highly pigmented;long lasting;cruelty free;easy apply", "color_beauty", 14),
    _q("beauty", "hair styling tools",
       "Beauty & Personal Care > Hair Care > Styling Tools & Appliances > Hair Straighteners;"
       "Beauty & Personal Care > Hair Care > Styling Tools & Appliances > Curling Irons;"
       "Beauty & Personal Care > Hair Care > Styling Tools & Appliances > Hair Dryers",
       "Hair Straightener;Curling Iron;Hair Dryer;hot Air Brush",
       "hair styling;fast heating;dual voltage;ceramic coating;dry hair", "color_electronics", 35),
    _q("beauty", "toothbrushes",
       "Health & Household > Oral Care > Toothbrushes & Accessories > Electric Toothbrushes;"
       "Health & Household > Oral Care > Toothbrushes & Accessories > Manual Toothbrushes;"
       "Beauty & Personal Care > Oral Care > Toothbrushes",
       "electric Toothbrush;Toothbrush;Toothbrush Heads;Kids Toothbrush",
       "teeth whitening;long lasting;easy use;sensitive teeth;travel case", "color_basic", 25),
    _q("beauty", "toothpaste",
       "Health & Household > Oral Care > Toothpaste;Beauty & Personal Care > Oral Care > Toothpaste;"
       "Health & Household > Oral Care > Teeth Whitening",
       "whitening Toothpaste;Toothpaste;Fluoride Toothpaste;Tooth Powder",
       "teeth whitening;fresh breath;sensitive teeth;fluoride free;natural ingredients", "flavor_mint pack", 8),
    _q("beauty", "makeup brushes",
       "Beauty & Personal Care > Tools & Accessories > Makeup Brushes & Tools > Brush Sets;"
       "Beauty & Personal Care > Tools & Accessories > Makeup Brushes & Tools > Sponges;"
       "Beauty & Personal Care > Tools & Accessories > Makeup Brushes & Tools > Face Brushes",
       "Makeup Brush Set;Foundation Brush;blending Sponge;Kabuki Brush",
       "synthetic hair;easy clean;high quality;travel size", "color_basic", 12),
    # -- electronics ------------------------------------------------------------------------------
    _q("electronics", "headphones",
       "Electronics > Headphones, Earbuds & Accessories > Headphones > Over-Ear Headphones;"
       "Electronics > Headphones, Earbuds & Accessories > Headphones > Earbud Headphones;"
       "Cell Phones & Accessories > Accessories > Headsets",
       "wireless Headphones;over-ear Headphones;Earbuds;Gaming Headset;on-ear Headphones for Kids",
       "noise cancelling;stereo sound;hands free;wireless bluetooth;carrying case",
       "color_electronics style_electronics", 45),
    _q("electronics", "power cords",
       "Electronics > Accessories & Supplies > Audio & Video Accessories > Power Cords;"
       "Electronics > Accessories & Supplies > Audio & Video Accessories > Cables;"
       "Industrial & Scientific > Power Transmission > Power Cords",
       "Power Cord;replacement Charger Cord;Power Supply Cable;Extension Cord",
       "ul listed;heavy duty;easy install;high speed", "color_basic length", 14),
    _q("electronics", "wearable technology",
       "Electronics > Wearable Technology > Smartwatches;"
       "Electronics > Wearable Technology > Activity & Fitness Trackers;"
       "Cell Phones & Accessories > Accessories > Smartwatch Accessories > Smartwatch Bands",
       "Smart Watch;Fitness Tracker;Watch Band;Smartwatch",
       "heart rate;water resistant;fitness tracker;easy install;quick release", "color_electronics size_band", 40),
    _q("electronics", "phone cases",
       "Cell Phones & Accessories > Cases, Holsters & Sleeves > Basic Cases;"
       "Cell Phones & Accessories > Cases, Holsters & Sleeves > Flip Cases;"
       "Cell Phones & Accessories > Cases, Holsters & Sleeves > Wallet Cases",
       "Phone Case;Wallet Case;clear Case;rugged Case",
       "shock absorption;wireless charging;easy install;card slots;tempered glass",
       "color_electronics style_phone", 12),
    _q("electronics", "speakers",
       "Electronics > Portable Audio & Video > Portable Speakers & Docks > Portable Bluetooth Speakers;"
       "Electronics > Home Audio > Speakers > Bookshelf Speakers;"
       "Electronics > Computers & Accessories > Computer Accessories & Peripherals > Computer Speakers",
       "Bluetooth Speaker;portable Speaker;Bookshelf Speakers;Soundbar;Computer Speakers",
       "stereo sound;water resistant;long battery;high fidelity;easy carry", "color_electronics", 55),
    _q("electronics", "chargers",
       "Cell Phones & Accessories > Accessories > Chargers & Power Adapters > Wall Chargers;"
       "Cell Phones & Accessories > Accessories > Chargers & Power Adapters > Car Chargers;"
       "Cell Phones & Accessories > Accessories > Chargers & Power Adapters > Wireless Chargers",
       "Wall Charger;Car Charger;wireless Charger;Charging Station;Power Bank",
       "fast charging;usb port;wireless charging;high speed;compact size", "color_basic pack", 20),
    _q("electronics", "tv mounts",
       "Electronics > Television & Video > Accessories > TV Mounts, Stands & Turntables > TV Wall & Ceiling Mounts;"
       "Electronics > Television & Video > Accessories > TV Mounts, Stands & Turntables > TV Stands;"
       "Tools & Home Improvement > Hardware > Brackets",
       "TV Wall Mount;TV Mount Bracket;Ceiling TV Mount;TV Floor Stand",
       "heavy duty;easy install;full motion;wall mount;cable management", "size_tv", 38),
    _q("electronics", "computer mice",
       "Electronics > Computers & Accessories > Computer Accessories & Peripherals > "
       "Keyboards, Mice & Accessories > Mice;"
       "Electronics > Computers & Accessories > Computer Accessories & Peripherals > Keyboards, Mice & Accessories > "
       "Keyboard & Mouse Combos;Electronics > Computers & Accessories > Gaming Mice",
       "wireless Mouse;Gaming Mouse;ergonomic Mouse;Keyboard and Mouse Combo",
       "plug play;usb receiver;long battery;ergonomic design;quiet click", "color_electronics", 22),
    _q("electronics", "security cameras",
       "Electronics > Camera & Photo > Video Surveillance > Surveillance Cameras > Dome Cameras;"
       "Electronics > Camera & Photo > Video Surveillance > Surveillance Cameras > Bullet Cameras;"
       "Tools & Home Improvement > Safety & Security > Home Security Systems",
       "Security Camera;Wifi Camera;Doorbell Camera;Baby Monitor",
       "night vision;motion detection;two way audio;easy install;hd resolution", "pack", 48),
    _q("electronics", "hdmi cables",
       "Electronics > Accessories & Supplies > Audio & Video Accessories > Cables > HDMI Cables;"
       "Electronics > Computers & Accessories > Cables & Accessories > Cables & Interconnects > HDMI Cables;"
       "Electronics > Accessories & Supplies > Audio & Video Accessories > Adapters",
       "HDMI Cable;HDMI Splitter;HDMI Switch;HDMI Adapter",
       "high speed;gold plated;plug play;ultra hd;4k hdr", "length pack", 12),
    _q("electronics", "remote controls",
       "Electronics > Television & Video > Accessories > Remote Controls;"
       "Electronics > Accessories & Supplies > Audio & Video Accessories > Remote Controls;"
       "Electronics > Home Audio > Home Audio Accessories > Remote Controls",
       "replacement Remote Control;universal Remote;Voice Remote;Remote Cover",
       "aaa batteries;easy use;batteries included;remote control", "", 13),
    _q("electronics", "memory cards",
       "Electronics > Computers & Accessories > Data Storage > Memory Cards > Micro SD Cards;"
       "Electronics > Computers & Accessories > Data Storage > USB Flash Drives;"
       "Electronics > Computers & Accessories > Data Storage > Memory Card Readers",
       "Memory Card;Micro SD Card;SD Card Reader;USB Flash Drive",
       "high speed;plug play;usb port;water resistant;data transfer", "capacity", 16),
    # -- fashion ----------------------------------------------------------------------------------
    _q("fashion", "women's loafers & slip-ons",
       "Clothing, Shoes & Jewelry > Women > Shoes > Loafers & Slip-Ons;"
       "Clothing, Shoes & Jewelry > Women > Shoes > Flats > Ballet Flats;"
       "Clothing, Shoes & Jewelry > Women > Shoes > Fashion Sneakers",
       "penny Loafers for Women;slip on Loafers;Ballet Flats;driving Moccasins",
       "memory foam;rubber sole;non slip;closed toe;slip resistant;leather upper", "size_shoe color_apparel", 35),
    _q("fashion", "men's shorts",
       "Clothing, Shoes & Jewelry > Men > Clothing > Shorts > Cargo;"
       "Clothing, Shoes & Jewelry > Men > Clothing > Active > Active Shorts;Sports & Outdoors > Running > Shorts",
       "Men's Cargo Shorts;Men's running Shorts;Men's Chino Shorts;Men's Swim Trunks",
       "quick dry;polyester spandex;elastic waistband;drawstring closure;machine wash",
       "color_apparel size_apparel", 25),
    _q("fashion", "men's dress shirts",
       "Clothing, Shoes & Jewelry > Men > Clothing > Shirts > Dress Shirts;"
       "Clothing, Shoes & Jewelry > Men > Clothing > Shirts > Casual Button-Down Shirts;"
       "Clothing, Shoes & Jewelry > Men > Clothing > Shirts > Polos",
       "Men's Dress Shirt;Men's Oxford Shirt;Men's Button down Shirt;Men's Polo Shirt",
       "slim fit;regular fit;button closure;long sleeve;machine wash;cotton spandex", "color_apparel size_apparel", 28),
    _q("fashion", "women's dresses",
       "Clothing, Shoes & Jewelry > Women > Clothing > Dresses > Casual;"
       "Clothing, Shoes & Jewelry > Women > Clothing > Dresses > Cocktail;"
       "Clothing, Shoes & Jewelry > Women > Clothing > Dresses > Maxi",
       "Maxi Dress;Wrap Dress;Sundress;Cocktail Dress;Shirt Dress",
       "short sleeve;high waist;hand wash;polyester spandex;daily wear", "color_apparel size_apparel", 33),
    _q("fashion", "women's leggings",
       "Clothing, Shoes & Jewelry > Women > Clothing > Leggings;"
       "Clothing, Shoes & Jewelry > Women > Clothing > Active > Active Leggings;"
       "Sports & Outdoors > Exercise & Fitness > Yoga > Clothing",
       "Yoga Leggings;high waist Leggings;Workout Leggings;fleece lined Leggings",
       "high waist;tummy control;quick dry;polyester spandex;butt lifting", "color_apparel size_apparel", 22),
    _q("fashion", "men's sneakers",
       "Clothing, Shoes & Jewelry > Men > Shoes > Fashion Sneakers;"
       "Clothing, Shoes & Jewelry > Men > Shoes > Athletic > Running;"
       "Clothing, Shoes & Jewelry > Men > Shoes > Athletic > Walking",
       "running Shoes;walking Shoes;Basketball Shoes;Mesh Sneakers",
       "rubber sole;arch support;non slip;memory foam;lace up", "size_shoe color_apparel", 55),
    _q("fashion", "women's sweaters",
       "Clothing, Shoes & Jewelry > Women > Clothing > Sweaters > Cardigans;"
       "Clothing, Shoes & Jewelry > Women > Clothing > Sweaters > Pullovers;"
       "Clothing, Shoes & Jewelry > Women > Clothing > Sweaters > Turtlenecks",
       "Cardigan Sweater;Pullover Sweater;Turtleneck Sweater;knit Sweater",
       "long sleeve;hand wash;soft material;button closure;loose fit", "color_apparel size_apparel", 34),
    _q("fashion", "men's jeans",
       "Clothing, Shoes & Jewelry > Men > Clothing > Jeans;"
       "Clothing, Shoes & Jewelry > Men > Clothing > Pants > Casual;"
       "Clothing, Shoes & Jewelry > Men > Big & Tall > Jeans",
       "Men's Jeans;slim Jeans;relaxed Jeans;straight leg Jeans",
       "slim fit;relaxed fit;machine wash;button closure;straight leg", "color_apparel size_apparel", 40),
    _q("fashion", "women's handbags",
       "Clothing, Shoes & Jewelry > Women > Handbags & Wallets > Shoulder Bags;"
       "Clothing, Shoes & Jewelry > Women > Handbags & Wallets > Totes;"
       "Clothing, Shoes & Jewelry > Women > Handbags & Wallets > Crossbody Bags",
       "Tote Bag;Crossbody Bag;Shoulder Bag;Hobo Bag",
       "faux leather;zipper closure;large capacity;adjustable strap", "color_apparel", 38),
    _q("fashion", "men's watches",
       "Clothing, Shoes & Jewelry > Men > Watches > Wrist Watches;"
       "Clothing, Shoes & Jewelry > Men > Watches > Smartwatches;"
       "Clothing, Shoes & Jewelry > Men > Watches > Watch Bands",
       "Men's Watch;Chronograph Watch;Dress Watch;Sport Watch",
       "water resistant;stainless steel;quartz movement;leather strap", "color_electronics", 60),
    _q("fashion", "socks",
       "Clothing, Shoes & Jewelry > Men > Clothing > Socks > Athletic Socks;"
       "Clothing, Shoes & Jewelry > Women > Clothing > Socks & Hosiery > Casual Socks;"
       "Sports & Outdoors > Sports Medicine > Compression Socks",
       "Athletic Socks;Crew Socks;Compression Socks;Ankle Socks",
       "moisture wicking;arch support;machine wash;cotton blend", "color_apparel size_apparel", 15),
    _q("fashion", "women's sandals",
       "Clothing, Shoes & Jewelry > Women > Shoes > Sandals > Flat Sandals;"
       "Clothing, Shoes & Jewelry > Women > Shoes > Sandals > Slides;"
       "Clothing, Shoes & Jewelry > Women > Shoes > Sandals > Wedge Sandals",
       "flat Sandals;Slide Sandals;Wedge Sandals;Flip Flops",
       "arch support;open toe;ankle strap;rubber sole;non slip", "size_shoe color_apparel", 30),
    # -- garden (home, furniture, patio) ---------------------------------------------------------
    _q("garden", "sofas and couches",
       "Home & Kitchen > Furniture > Living Room Furniture > Sofas & Couches;"
       "Home & Kitchen > Furniture > Living Room Furniture > Sectional Sofas;"
       "Home & Kitchen > Furniture > Living Room Furniture > Futons",
       "mid-century modern Sofa Couch;sectional Sofa;Loveseat Sofa;Futon Sofa Bed;sleeper Sofa",
       "living room;wood frame;mid century;faux leather;high density;easy assemble",
       "color_home size_sofa style_furniture", 420),
    _q("garden", "ottomans",
       "Home & Kitchen > Furniture > Living Room Furniture > Ottomans;"
       "Home & Kitchen > Furniture > Bedroom Furniture > Benches;"
       "Home & Kitchen > Storage & Organization > Storage Ottomans",
       "Storage Ottoman;Ottoman Cube;Ottoman Bench;Foot Stool;Pouf Ottoman",
       "storage space;pu leather;easy assemble;living room;solid wood", "color_home size_ottoman", 70),
    _q("garden", "area rugs",
       "Home & Kitchen > Home Décor > Area Rugs, Runners & Pads > Area Rugs;"
       "Home & Kitchen > Home Décor > Area Rugs, Runners & Pads > Runners;"
       "Home & Kitchen > Kitchen & Dining > Kitchen Rugs",
       "Area Rug;Runner Rug;Shag Rug;washable Rug",
       "non slip;easy clean;living room;machine washable;super soft", "color_home size_rug", 90),
    _q("garden", "bed frames",
       "Home & Kitchen > Furniture > Bedroom Furniture > Beds, Frames & Bases > Beds;"
       "Home & Kitchen > Furniture > Bedroom Furniture > Beds, Frames & Bases > Bed Frames;"
       "Home & Kitchen > Furniture > Bedroom Furniture > Headboards",
       "Platform Bed Frame;Metal Bed Frame;upholstered Bed;Wood Bed Frame",
       "box spring;easy assemble;metal frame;wood slat;storage space;heavy duty", "size_bed color_home", 230),
    _q("garden", "dining chairs",
       "Home & Kitchen > Furniture > Kitchen & Dining Room Furniture > Chairs;"
       "Home & Kitchen > Furniture > Kitchen & Dining Room Furniture > Bar Stools;"
       "Home & Kitchen > Furniture > Living Room Furniture > Chairs",
       "Dining Chairs;Bar Stools;accent Chair;Kitchen Chairs",
       "dining room;solid wood;metal legs;easy assemble;pu leather", "color_home size_set", 140),
    _q("garden", "tv stands",
       "Home & Kitchen > Furniture > Living Room Furniture > Television Stands & Entertainment Centers;"
       "Home & Kitchen > Furniture > Living Room Furniture > Media Storage;"
       "Home & Kitchen > Furniture > Living Room Furniture > Console Tables",
       "TV Stand;Entertainment Center;Media Console;TV Cabinet",
       "storage space;living room;engineered wood;cable management;easy assemble", "color_home", 150),
    _q("garden", "bookcases",
       "Home & Kitchen > Furniture > Home Office Furniture > Bookcases;"
       "Home & Kitchen > Furniture > Living Room Furniture > Bookcases;"
       "Home & Kitchen > Storage & Organization > Cube Storage",
       "Bookcase;Bookshelf;Ladder Shelf;Cube Storage Shelf",
       "storage space;easy assemble;engineered wood;space saving;metal frame", "color_home size_shelf", 95),
    _q("garden", "patio furniture sets",
       "Patio, Lawn & Garden > Patio Furniture & Accessories > Patio Furniture Sets > Conversation Sets;"
       "Patio, Lawn & Garden > Patio Furniture & Accessories > Patio Furniture Sets > Dining Sets;"
       "Patio, Lawn & Garden > Patio Furniture & Accessories > Patio Furniture Sets > Bistro Sets",
       "Patio Conversation Set;Patio Dining Set;Bistro Set;outdoor Sectional",
       "weather resistant;easy clean;steel frame;tempered glass;cushions included", "color_home", 380),
    _q("garden", "garden planters",
       "Patio, Lawn & Garden > Gardening & Lawn Care > Pots, Planters & Container Accessories > Planters;"
       "Patio, Lawn & Garden > Gardening & Lawn Care > Pots, Planters & Container Accessories > Hanging Planters;"
       "Patio, Lawn & Garden > Gardening & Lawn Care > Raised Beds",
       "ceramic Planter;hanging Planter;raised Garden Bed;Plant Pot",
       "drainage hole;indoor outdoor;easy assemble;weather resistant", "color_home size_planter", 30),
    _q("garden", "office chairs",
       "Home & Kitchen > Furniture > Home Office Furniture > Home Office Chairs > Desk Chairs;"
       "Home & Kitchen > Furniture > Home Office Furniture > Home Office Chairs > Gaming Chairs;"
       "Office Products > Office Furniture & Lighting > Chairs & Sofas > Desk Chairs",
       "Office Chair;Desk Chair;Gaming Chair;ergonomic Chair",
       "lumbar support;adjustable height;high back;easy assemble;pu leather", "color_home", 160),
    _q("garden", "curtains",
       "Home & Kitchen > Home Décor > Window Treatments > Curtains & Drapes > Panels;"
       "Home & Kitchen > Home Décor > Window Treatments > Curtains & Drapes > Valances;"
       "Home & Kitchen > Home Décor > Window Treatments > Sheer Curtains",
       "blackout Curtains;sheer Curtains;Curtain Panels;thermal Curtains",
       "living room;thermal insulated;machine washable;easy install;noise reducing", "color_home size_curtain", 32),
    _q("garden", "throw pillows",
       "Home & Kitchen > Bedding > Decorative Pillows, Inserts & Covers > Throw Pillow Covers;"
       "Home & Kitchen > Bedding > Decorative Pillows, Inserts & Covers > Throw Pillows;"
       "Home & Kitchen > Home Décor > Pillows",
       "Throw Pillow Covers;decorative Pillows;Lumbar Pillow;Cushion Covers",
       "living room;super soft;zipper closure;machine washable;double sided", "color_home size_pillow", 20),
    # -- grocery ----------------------------------------------------------------------------------
    _q("grocery", "party mix",
       "Grocery & Gourmet Food > Snack Foods > Snack Mixes > Party Mix;"
       "Grocery & Gourmet Food > Snack Foods > Snack Mixes > Trail Mix;"
       "Grocery & Gourmet Food > Snack Foods > Chips & Crisps",
       "Party Mix;Snack Mix;Trail Mix;Pretzel Mix",
       "individually wrapped;great gift;resealable bag;gluten free;non gmo", "flavor_snack size_snack", 14),
    _q("grocery", "snack bars",
       "Grocery & Gourmet Food > Snack Foods > Bars > Protein Bars;"
       "Grocery & Gourmet Food > Snack Foods > Bars > Granola Bars;"
       "Health & Household > Diet & Sports Nutrition > Nutrition Bars",
       "Protein Bars;Granola Bars;Snack Bars;Energy Bars",
       "high protein;gluten free;low sugar;individually wrapped;keto friendly", "flavor_bar size_count", 20),
    _q("grocery", "coffee",
       "Grocery & Gourmet Food > Beverages > Coffee, Tea & Cocoa > Coffee > Ground Coffee;"
       "Grocery & Gourmet Food > Beverages > Coffee, Tea & Cocoa > Coffee > Whole Coffee Beans;"
       "Grocery & Gourmet Food > Beverages > Coffee, Tea & Cocoa > Coffee > Single-Serve Capsules & Pods",
       "Ground Coffee;whole Bean Coffee;Coffee Pods;cold Brew Coffee",
       "medium roast;dark roast;fair trade;single origin;certified organic", "flavor_coffee size_bag", 16),
    _q("grocery", "tea",
       "Grocery & Gourmet Food > Beverages > Coffee, Tea & Cocoa > Tea > Tea Samplers;"
       "Grocery & Gourmet Food > Beverages > Coffee, Tea & Cocoa > Tea > Green Tea;"
       "Grocery & Gourmet Food > Beverages > Coffee, Tea & Cocoa > Tea > Herbal Tea",
       "green Tea Bags;herbal Tea;black Tea;loose Leaf Tea;Matcha Powder",
       "caffeine free;certified organic;non gmo;individually wrapped;natural ingredients", "flavor_tea size_count", 12),
    _q("grocery", "candy & chocolate",
       "Grocery & Gourmet Food > Candy & Chocolate > Chocolate > Chocolate Bars;"
       "Grocery & Gourmet Food > Candy & Chocolate > Gummy Candy;"
       "Grocery & Gourmet Food > Candy & Chocolate > Hard Candy",
       "Chocolate Bars;Gummy Bears;hard Candy;Chocolate Truffles;Candy Assortment",
       "individually wrapped;great gift;gluten free;dark chocolate;valentine day", "flavor_candy size_snack", 15),
    _q("grocery", "nuts & seeds",
       "Grocery & Gourmet Food > Snack Foods > Nuts & Seeds > Almonds;"
       "Grocery & Gourmet Food > Snack Foods > Nuts & Seeds > Mixed Nuts;"
       "Grocery & Gourmet Food > Pantry Staples > Nuts & Seeds",
       "roasted Almonds;mixed Nuts;Cashews;Pistachios;Chia Seeds",
       "non gmo;low sodium;resealable bag;high protein;keto friendly", "flavor_nuts size_bag", 17),
    _q("grocery", "pasta & noodles",
       "Grocery & Gourmet Food > Pantry Staples > Dried Beans, Grains & Rice > Pasta & Noodles > Pasta;"
       "Grocery & Gourmet Food > Pantry Staples > Dried Beans, Grains & Rice > Pasta & Noodles > Noodles;"
       "Grocery & Gourmet Food > Pantry Staples > Packaged Meals & Side Dishes > Ramen",
       "Spaghetti;Penne Pasta;Ramen Noodles;Rice Noodles;Egg Noodles",
       "gluten free;whole grain;non gmo;low carb;plant based", "size_pasta", 13),
    _q("grocery", "sauces & condiments",
       "Grocery & Gourmet Food > Condiments & Salad Dressings > Sauces > Hot Sauce;"
       "Grocery & Gourmet Food > Condiments & Salad Dressings > Sauces > Barbecue Sauce;"
       "Grocery & Gourmet Food > Condiments & Salad Dressings > Salad Dressings",
       "Hot Sauce;Barbecue Sauce;Pasta Sauce;Salad Dressing;Soy Sauce",
       "low sodium;sugar free;gluten free;natural ingredients;keto friendly", "flavor_sauce size_bottle", 11),
    _q("grocery", "breakfast cereal",
       "Grocery & Gourmet Food > Breakfast Foods > Cereals > Cold Cereals;"
       "Grocery & Gourmet Food > Breakfast Foods > Cereals > Granola;"
       "Grocery & Gourmet Food > Breakfast Foods > Oatmeal",
       "Granola;Oatmeal Cups;Cereal;Muesli",
       "whole grain;high fiber;low sugar;gluten free;plant based", "flavor_cereal size_box", 12),
    _q("grocery", "jerky",
       "Grocery & Gourmet Food > Snack Foods > Jerky & Dried Meats > Beef Jerky;"
       "Grocery & Gourmet Food > Snack Foods > Jerky & Dried Meats > Meat Sticks;"
       "Grocery & Gourmet Food > Meat & Seafood > Jerky",
       "Beef Jerky;Turkey Jerky;Meat Sticks;Jerky Bites",
       "high protein;low carb;keto friendly;individually wrapped;gluten free", "flavor_jerky size_snack", 18),
    _q("grocery", "electrolyte drink mixes",
       "Grocery & Gourmet Food > Beverages > Powdered Drink Mixes & Flavorings > Drink Mixes;"
       "Health & Household > Diet & Sports Nutrition > Sports Nutrition > Electrolyte Replacements;"
       "Grocery & Gourmet Food > Beverages > Sports Drinks",
       "Electrolyte Powder;Drink Mix;Hydration Packets;Sports Drink",
       "sugar free;low calorie;non gmo;keto friendly;individually wrapped", "flavor_drink size_count", 19),
    _q("grocery", "baking mixes",
       "Grocery & Gourmet Food > Pantry Staples > Cooking & Baking > Baking Mixes > Pancake Mixes;"
       "Grocery & Gourmet Food > Pantry Staples > Cooking & Baking > Baking Mixes > Brownie Mixes;"
       "Grocery & Gourmet Food > Pantry Staples > Cooking & Baking > Baking Mixes > Cake Mixes",
       "Pancake Mix;Brownie Mix;Cake Mix;Muffin Mix",
       "gluten free;non gmo;easy prepare;plant based;dairy free", "flavor_baking size_box", 9),
)  # fmt: skip

#: Category-wide attributes mixed into every query's own ones.
COMMON_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "beauty": ("long lasting", "paraben free", "cruelty free", "natural ingredients", "easy use", "high quality",
               "travel size", "sensitive skin", "non toxic", "alcohol free"),
    "electronics": ("easy install", "high speed", "heavy duty", "long lasting", "easy carry", "high quality",
                    "compact size", "plug play", "durable material"),
    "fashion": ("machine wash", "hand wash", "daily wear", "soft material", "polyester cotton", "easy care",
                "classic fit", "wash cold"),
    "garden": ("easy assemble", "easy clean", "living room", "space saving", "assembly required", "high quality",
               "contemporary design", "steel frame"),
    "grocery": ("gluten free", "non gmo", "natural ingredients", "great gift", "individually wrapped",
                "artificial flavors", "kosher certified", "low calorie"),
}  # fmt: skip

#: Noun words of the attribute phrases (for the title-noun lists; everything else in an attribute is a modifier).
ATTRIBUTE_NOUNS: frozenset[str] = frozenset((
    "oil", "hair", "growth", "tree", "acid", "lines", "skin", "ingredients", "bottles", "mist", "polish", "art",
    "gel", "lip", "breath", "teeth", "case", "sound", "bluetooth", "speed", "rate", "release", "absorption",
    "glass", "slots", "battery", "fidelity", "port", "size", "motion", "management", "receiver", "design", "click",
    "vision", "detection", "audio", "resolution", "hd", "hdr", "batteries", "control", "transfer", "foam", "sole",
    "toe", "upper", "spandex", "waistband", "closure", "sleeve", "fit", "waist", "wear", "material", "leg",
    "leather", "strap", "capacity", "steel", "movement", "blend", "support", "room", "frame", "density", "space",
    "wood", "spring", "slat", "legs", "cushions", "hole", "height", "back", "protein", "sugar", "gift", "bag",
    "gmo", "chocolate", "day", "sodium", "grain", "carb", "fiber", "roast", "trade", "origin", "flavors", "calorie",
    "styling", "voltage", "coating", "heating", "whitening", "quality",
))  # fmt: skip

#: Spec and audience words that count as nouns in titles.
SPEC_NOUNS: frozenset[str] = frozenset(["pack", "set", "count", "ounce", "women", "men", "kids"])

ADJECTIVES: tuple[str, ...] = (
    "Premium", "Portable", "Upgraded", "Lightweight", "Durable", "Classic", "Soft", "Comfortable", "Modern",
    "Compact", "Professional", "Deluxe", "Original", "Casual", "Natural", "Elegant", "Sturdy", "Vintage",
)  # fmt: skip

_BRAND_HEADS = (
    "Bex", "Hal", "Pel", "Quen", "Fen", "Zen", "Or", "Mav", "Gal", "Is", "Kov", "Del", "Hux", "Tes", "Bri", "Cal",
    "Dor", "El", "Far", "Gren", "Har", "Jas", "Kel", "Lor", "Mer", "Nor", "Ol", "Pax", "Quil", "Ros", "Sol",
    "Tam", "Ul", "Ven", "Wil", "Xan", "Yor", "Zal", "Ash", "Bel",
)  # fmt: skip
_BRAND_TAILS = (
    "ley", "den", "lam", "by", "wick", "tro", "rin", "en", "ola", "mar", "ton", "ford", "vale", "ix", "ora",
    "ette", "ano", "ium", "well", "ara", "io", "sen", "ak", "ona", "et", "ux", "ind", "ari", "oni", "bury",
)  # fmt: skip
_BRAND_PAIRS = (
    "Birch & Bloom", "Oak & Ivy", "Fox & Fern", "Pine & Pebble", "Stone & Sparrow", "Moss & Maple",
    "Reed & Rowan", "Wren & Willow",
)  # fmt: skip
BRANDS: tuple[str, ...] = tuple(h + t.lower() for h in _BRAND_HEADS for t in _BRAND_TAILS) + _BRAND_PAIRS
"""1,208 invented brand names (Proper nouns in titles)."""

#: Price distribution per category: sigma of the log-normal around each query's median.
PRICE_SIGMA: dict[str, float] = {"beauty": 0.55, "electronics": 0.7, "fashion": 0.55, "garden": 0.75, "grocery": 0.5}
RANGE_PRICE_SHARE = 0.18  # products priced "$lo - $hi" (an assumption; the real share is unknown)
MISSING_PRICE_SHARE = 0.02
HIDDEN_ATTRIBUTE_SHARE = 0.15  # attributes annotated but written nowhere in the product text
SYNTHETIC_INSTRUCTION_SHARE = 0.6  # goal products with an items_ins_v2 instruction
UNANNOTATED_SHARE = 0.01  # products missing from items_ins_v2 (-> DUMMY_ATTR)

HUMAN_OPENERS: tuple[str, ...] = (
    "i need", "i am looking for", "im looking for", "i'm looking for", "i want", "i would like", "find me",
    "i want to buy", "looking for", "i'm searching for", "im searching for", "can you find me", "get me",
    "i need to buy", "i'd like", "i am searching for", "show me",
)  # fmt: skip

_ASIN_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_SPOKEN_NAMES = {"Flavor Name": "flavor", "Item Package Quantity": "quantity"}
_ACRONYMS = frozenset(["usb", "hd", "hdr", "ul", "pu", "bpa", "gmo", "tv", "hdmi", "led", "4k", "aaa", "sd"])
_SMALL_WORDS = frozenset(["for", "and", "of", "with", "in", "on", "to"])
_WORD = re.compile(r"[A-Za-z]+")


# ---------------------------------------------------------------------------------------------
# Generator
# ---------------------------------------------------------------------------------------------


def _title_word(word: str) -> str:
    lower = word.lower()
    if lower in _ACRONYMS:
        return word.upper()
    if lower in _SMALL_WORDS:
        return lower
    return "-".join(part[:1].upper() + part[1:] for part in word.split("-"))


@lru_cache(maxsize=4096)
def _title_case(phrase: str) -> str:
    return " ".join(_title_word(w) for w in phrase.split())


def _noun_words(phrase: str) -> set[str]:
    """The noun words (lower-case) of a noun-phrase spec: its Capitalised words."""
    return {w.lower() for w in _WORD.findall(phrase) if w[0].isupper()}


#: Every noun word used in titles (lower-case).
NOUN_WORDS: frozenset[str] = frozenset(
    set().union(*(_noun_words(n) for q in QUERIES for n in q.nouns)) | ATTRIBUTE_NOUNS | SPEC_NOUNS
)


def title_nouns(title: str, brand: str) -> list[str]:
    """The nouns of a generated title as they appear in it, in title order: the brand's words and :data:`NOUN_WORDS`.

    >>> title_nouns("Bexley Wireless Headphones for Kids Stereo Sound, Black", "Bexley")
    ['Bexley', 'Headphones', 'Kids', 'Sound']
    """
    brand_words = set(_WORD.findall(brand))
    return [w for w in _WORD.findall(title) if w in brand_words or (len(w) > 1 and w.lower() in NOUN_WORDS)]


@dataclass
class _Design:
    """A product before rendering: the parts its title, text and options are built from."""

    spec: QuerySpec
    brand: str
    noun: str
    modifier: str
    attributes: list[str]
    placement: dict[str, str]  # attribute -> "title" | "bullet" | "description" | "hidden"
    options: list[tuple[str, list[str]]]  # (raw name, raw values)
    price: tuple[float, ...]  # () missing, (p,), or (lo, hi)
    breadcrumb: str
    spec_suffix: str
    description_style: int
    bullets_as_string: bool


def _draw_price(spec: QuerySpec, rng: Random) -> tuple[float, ...]:
    roll = rng.random()
    if roll < MISSING_PRICE_SHARE:
        return ()
    price = round(max(1.0, spec.median_price * math.exp(rng.gauss(0.0, PRICE_SIGMA[spec.category]))), 2)
    if roll < MISSING_PRICE_SHARE + RANGE_PRICE_SHARE:
        return price, round(price * rng.uniform(1.1, 1.8), 2)
    return (price,)


def _draw_options(spec: QuerySpec, rng: Random) -> list[tuple[str, list[str]]]:
    groups = []
    for position, kind in enumerate(spec.options):
        if rng.random() >= (0.85 if position < 2 else 0.3):
            continue
        name, pool = OPTION_KINDS[kind]
        values = rng.sample(pool, rng.randint(2, min(len(pool), 6)))
        groups.append((name, values))
    return groups


def _draw_attributes(spec: QuerySpec, rng: Random) -> list[str]:
    count = rng.choice((2, 3, 3, 3, 4))
    own = rng.sample(spec.attributes, min(len(spec.attributes), rng.choice((1, 2, 2))))
    common = [a for a in rng.sample(COMMON_ATTRIBUTES[spec.category], 4) if a not in own]
    return (own + common)[:count]


def _place(attributes: Sequence[str], rng: Random) -> dict[str, str]:
    placement = {}
    in_title = 0
    for attribute in attributes:
        roll = rng.random()
        if roll < HIDDEN_ATTRIBUTE_SHARE:
            where = "hidden"
        elif roll < 0.45 and in_title < 2:
            where = "title"
            in_title += 1
        elif roll < 0.75:
            where = "bullet"
        else:
            where = "description"
        placement[attribute] = where
    return placement


def _spec_suffix(options: Sequence[tuple[str, list[str]]], rng: Random) -> str:
    roll = rng.random()
    colors = [values for name, values in options if name == "Color"]
    if colors and roll < 0.45:
        return ", " + colors[0][0].split("/")[0]
    if roll > 0.85:
        return f" - Pack of {rng.choice((2, 3, 4, 6, 12))}"
    return ""


def _base_design(spec: QuerySpec, rng: Random) -> _Design:
    attributes = _draw_attributes(spec, rng)
    options = _draw_options(spec, rng)
    return _Design(
        spec=spec,
        brand=rng.choice(BRANDS),
        noun=rng.choice(spec.nouns),
        modifier=rng.choice(ADJECTIVES) if rng.random() < 0.35 else "",
        attributes=attributes,
        placement=_place(attributes, rng),
        options=options,
        price=_draw_price(spec, rng),
        breadcrumb=rng.choice(spec.breadcrumbs),
        spec_suffix=_spec_suffix(options, rng),
        description_style=rng.randrange(5),
        bullets_as_string=rng.random() < 0.05,
    )


NEAR_MISS_KINDS: tuple[str, ...] = ("options", "attribute", "price", "breadcrumb")
"""How a distractor differs from its goal product."""


def _near_miss(base: _Design, kind: str, rng: Random, keep_noun: bool) -> _Design:
    """A sibling of ``base`` (same query, another brand, the same noun phrase if ``keep_noun`` and
    otherwise usually) that misses in one way."""
    brand = rng.choice(BRANDS)
    while brand == base.brand:
        brand = rng.choice(BRANDS)
    sibling = _Design(
        spec=base.spec,
        brand=brand,
        noun=base.noun if keep_noun or rng.random() < 0.7 else rng.choice(base.spec.nouns),
        modifier=rng.choice(ADJECTIVES) if rng.random() < 0.35 else "",
        attributes=list(base.attributes),
        placement=dict(base.placement),
        options=[(name, list(values)) for name, values in base.options],
        price=tuple(round(p * rng.uniform(0.85, 1.15), 2) for p in base.price),
        breadcrumb=base.breadcrumb,
        spec_suffix=base.spec_suffix,
        description_style=rng.randrange(5),
        bullets_as_string=False,
    )
    if kind == "options":
        sibling.options = _draw_options(base.spec, rng)
    elif kind == "attribute":
        dropped = rng.choice(sibling.attributes)
        sibling.attributes.remove(dropped)
        del sibling.placement[dropped]
        spare = [a for a in base.spec.attributes + COMMON_ATTRIBUTES[base.spec.category] if a not in base.attributes]
        extra = rng.choice(spare)
        sibling.attributes.append(extra)
        sibling.placement[extra] = rng.choice(("bullet", "description", "hidden"))
    elif kind == "price":
        sibling.price = tuple(round(p * rng.uniform(2.5, 4.0), 2) for p in base.price)
    else:
        sibling.breadcrumb = rng.choice([c for c in base.spec.breadcrumbs if c != base.breadcrumb])
    return sibling


def _near_miss_kinds(base: _Design) -> tuple[str, ...]:
    """The ways a sibling of ``base`` can miss (options and price only when it has them)."""
    return tuple(
        kind for kind in NEAR_MISS_KINDS if (kind != "options" or base.options) and (kind != "price" or base.price)
    )


def _format_price(price: tuple[float, ...]) -> str:
    if not price:
        return ""
    if len(price) == 1:
        return f"${price[0]:,.2f}"
    return f"${price[0]:,.2f} - ${price[1]:,.2f}"


def _render(design: _Design, asin: str, rng: Random) -> tuple[dict[str, Any], list[str]]:
    """The raw ``items_shuffle`` record of a design and its title nouns."""
    spec = design.spec
    noun = _title_case(design.noun)
    parts = [design.brand]
    if design.modifier:
        parts.append(design.modifier)
    parts.append(noun)
    parts.extend(_title_case(a) for a in design.attributes if design.placement[a] == "title")
    title = " ".join(parts) + design.spec_suffix

    bullets = [f"Package includes: 1 x {noun}"]
    for attribute in design.attributes:
        if design.placement[attribute] != "bullet":
            continue
        if rng.random() < 0.5:
            bullets.append(f"{attribute[:1].upper()}{attribute[1:]} for everyday use")
        elif rng.random() < 0.75:
            bullets.append(f"{_title_case(attribute)} design")
        else:
            bullets.append(f"{_title_case(attribute).replace(' ', '-')} design")
    rng.shuffle(bullets)
    described = [a for a in design.attributes if design.placement[a] == "description"]
    style = design.description_style
    if style == 0 and not described:
        description = ""
    elif style <= 1:
        description = f"This {spec.query} item is made with {' and '.join(described) or 'care'}."
    elif style == 2:
        description = f"{design.brand} quality. " + " ".join(f"Made with {a}." for a in described)
    else:
        extra = f" with {', '.join(described)}" if described else ""
        description = (
            f"The {design.brand} {design.noun.lower()}{extra}. "
            f"A {spec.query} choice for home, travel and gifts; see the size chart before ordering."
        )

    options: dict[str, Any] | None = None
    if design.options:
        options = {name: [{"value": value, "image": None} for value in values] for name, values in design.options}
    raw = {
        "asin": asin,
        "name": title,
        "full_description": description,
        "small_description": " ".join(bullets) if design.bullets_as_string else bullets,
        "pricing": _format_price(design.price),
        "images": [f"https://m.media-amazon.com/images/I/{asin}.jpg"],
        "product_category": design.breadcrumb,
        "query": spec.query,
        "category": spec.category,
        "customization_options": options,
        "brand": design.brand,
        "product_information": {},
    }
    return raw, title_nouns(title, design.brand)


def _base36(number: int, width: int) -> str:
    """The last ``width`` base-36 digits of ``number`` (upper case)."""
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 36)
        digits.append(_ASIN_ALPHABET[digit])
    return "".join(digits)


def _loaded_value(value: str) -> str:
    return value.strip().replace("/", " | ").lower()


def _human_record(design: _Design, asin: str, rng: Random, worker: str) -> dict[str, Any]:
    """One crowd-style instruction for a goal product (lower-case, 1-3 attributes, some options)."""
    empty = rng.random() < 0.03  # a few records without attributes, which the goal builder skips
    attributes = (
        [] if empty else rng.sample(design.attributes, min(len(design.attributes), rng.choice((1, 1, 2, 2, 3))))
    )
    chosen = [(name, rng.choice(values)) for name, values in design.options if rng.random() < 0.75]
    noun = design.noun.lower() if rng.random() < 0.75 else rng.choice(design.spec.nouns).lower()
    opener = rng.choice(HUMAN_OPENERS)
    article = "" if noun.endswith("s") or rng.random() < 0.4 else "a "
    joined = " and ".join(attributes)
    shape = rng.randrange(3)
    if not attributes:
        text = f"{opener} {article}{noun}"
    elif shape == 0:
        text = f"{opener} {article}{noun} that is {joined}"
    elif shape == 1:
        text = f"{opener} {article}{' '.join(attributes)} {noun}"
    else:
        text = f"{opener} {article}{noun} with {joined}"
    values = [_loaded_value(v) for _, v in chosen]
    typed = [v.strip().lower() for _, v in chosen]  # as a person types them (with "/", not " | ")
    if typed:
        if rng.random() < 0.5:
            text += " in " + ", ".join(typed)
        else:
            text += " in " + " and ".join(
                f"{_SPOKEN_NAMES.get(name, name.lower())} {v}" for (name, _), v in zip(chosen, typed)
            )
    ending = rng.random()
    if ending < 0.25:
        text += "."
    elif ending < 0.3:
        text += " ."
    return {
        "asin": asin,
        "instruction": text,
        "instruction_attributes": attributes,
        "instruction_options": values,
        "attributes": list(design.attributes),
        "options": [f"{name.lower()}: {v}" for (name, _), v in zip(chosen, values)],
        "worker_id": worker,
        "assignment_id": "3" + _base36(rng.getrandbits(150), 29),
    }


def generate_raw(
    num_products: int, seed: int = DEFAULT_CATALOG_SEED
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]], dict[str, list[dict[str, Any]]], dict[str, list[str]]]:
    """Generate a catalog of ``num_products`` products from ``seed``, as the raw files' contents.

    Returns ``(items_shuffle, items_ins_v2, items_human_ins, title_nouns)``. A pure function of
    ``(GENERATOR_VERSION, num_products, seed)``.

    >>> items, ins, human, nouns = generate_raw(30, seed=3)
    >>> len(items), len(set(p["asin"] for p in items)), all(len(p["asin"]) == 10 for p in items)
    (30, 30, True)
    >>> sorted(ins[items[0]["asin"]])[0], items == generate_raw(30, seed=3)[0]
    ('attributes', True)
    """
    if not isinstance(num_products, int) or num_products < 1:
        raise ValueError(f"num_products must be a positive int, got {num_products!r}")
    rng = Random(f"spa-gym-webshop-catalog-{GENERATOR_VERSION}-{seed}")
    asins: set[str] = set()
    workers = ["A" + _base36(rng.getrandbits(68), 13) for _ in range(50)]
    items: list[dict[str, Any]] = []
    annotations: dict[str, dict[str, Any]] = {}
    human: dict[str, list[dict[str, Any]]] = {}
    nouns: dict[str, list[str]] = {}

    def new_asin() -> str:
        while True:
            asin = "B0" + _base36(rng.getrandbits(42), 8)
            if asin not in asins:
                asins.add(asin)
                return asin

    while len(items) < num_products:
        spec = rng.choice(QUERIES)
        base = _base_design(spec, rng)
        kinds = _near_miss_kinds(base)
        family = [base] + [
            _near_miss(base, rng.choice(kinds), rng, keep_noun=k == 0) for k in range(rng.choice((1, 2, 2, 3)))
        ]
        family = family[: num_products - len(items)]
        for position, design in enumerate(family):
            asin = new_asin()
            raw, noun_list = _render(design, asin, rng)
            items.append(raw)
            nouns[asin] = noun_list
            if position > 0 and rng.random() < UNANNOTATED_SHARE:
                continue
            entry: dict[str, Any] = {"attributes": list(design.attributes)}
            if position == 0 and len(family) > 1:  # a goal product always has a near-miss
                if rng.random() < SYNTHETIC_INSTRUCTION_SHARE:
                    wanted = rng.sample(design.attributes, min(len(design.attributes), rng.choice((1, 1, 2))))
                    entry["instruction"] = f"Find me {spec.query} with {', '.join(wanted)}"
                    entry["instruction_attributes"] = wanted
                human[asin] = [
                    _human_record(design, asin, rng, rng.choice(workers)) for _ in range(rng.choice((1, 2, 3, 3, 4, 5)))
                ]
            annotations[asin] = entry
    rng.shuffle(items)
    return items, annotations, human, nouns


# ---------------------------------------------------------------------------------------------
# Loader
# ---------------------------------------------------------------------------------------------


@dataclass(eq=False)
class Catalog:
    """Products in the loader format, with what goals and the reward need besides.

    ``synthetic_instructions``: asin -> (instruction, instruction attributes) from ``items_ins_v2``
    (products whose instruction is missing or null are absent). ``human_instructions``: asin ->
    records of ``items_human_ins``. ``title_nouns``: asin -> nouns, or ``None`` (real files: the reward
    extracts nouns itself). ``key`` names the catalog for caches (search index, goals).
    """

    key: str
    products: list[dict[str, Any]]
    synthetic_instructions: dict[str, tuple[str, list[str]]]
    human_instructions: dict[str, list[dict[str, Any]]]
    title_nouns: dict[str, list[str]] | None
    by_asin: dict[str, dict[str, Any]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.by_asin = {p["asin"]: p for p in self.products}

    def __len__(self) -> int:
        return len(self.products)

    def __repr__(self) -> str:
        return f"Catalog(key={self.key!r}, products={len(self.products)})"


def _fail(file: str, where: str, problem: str) -> CatalogFileError:
    return CatalogFileError(f"{file}: {where}: {problem}")


def _record_name(index: int, raw: Any) -> str:
    asin = raw.get("asin") if isinstance(raw, dict) else None
    return f"record {index}" + (f" (asin {asin!r})" if isinstance(asin, str) else "")


def _parse_pricing(value: Any, file: str, where: str) -> tuple[list[float], str]:
    """WebShop's price parsing: the ``$``-separated parts, digits and dots only; first two kept."""
    if value is None or value == "" or value == []:
        return [MISSING_PRICE], f"${MISSING_PRICE}"
    if not isinstance(value, str):
        raise _fail(
            file, where, f"field 'pricing' must be a string such as '$12.99' or '$10.00 - $15.00', got {value!r}"
        )
    prices = []
    for part in value.split("$")[1:]:
        digits = re.sub(r"[^\d.]", "", part)
        try:
            prices.append(float(Decimal(digits)))
        except InvalidOperation:
            raise _fail(
                file, where, f"field 'pricing' {value!r} has a part {part!r} that is not a number after '$'"
            ) from None
    if not prices:
        raise _fail(file, where, f"field 'pricing' {value!r} has no '$<number>' price")
    if len(prices) == 1:
        return prices, f"${prices[0]}"
    return prices[:2], f"${prices[0]} to ${prices[1]}"


def _parse_options(value: Any, file: str, where: str) -> dict[str, list[str]]:
    if not value:
        return {}
    if not isinstance(value, dict):
        raise _fail(file, where, f"field 'customization_options' must be a dict or null, got {type(value).__name__}")
    options: dict[str, list[str]] = {}
    for name, contents in value.items():
        if contents is None:
            continue
        if not isinstance(contents, list):
            raise _fail(
                file, where, f"customization_options[{name!r}] must be a list of {{'value': ...}}, got {contents!r}"
            )
        values = []
        for content in contents:
            if not isinstance(content, dict) or not isinstance(content.get("value"), str):
                raise _fail(file, where, f"customization_options[{name!r}] entry {content!r} needs a string 'value'")
            values.append(_loaded_value(content["value"]))
        options[name.lower()] = values
    return options


_REQUIRED_STR = ("asin", "name", "query", "category", "product_category")


def _load_product(
    raw: Any, index: int, file: str, annotations: Mapping[str, Any], memo: dict[str, str]
) -> dict[str, Any]:
    where = _record_name(index, raw)
    if not isinstance(raw, dict):
        raise _fail(file, where, f"a product must be a JSON object, got {type(raw).__name__}")
    for key in _REQUIRED_STR:
        if not isinstance(raw.get(key), str):
            raise _fail(file, where, f"field {key!r} must be a string, got {raw.get(key)!r}")
    description = raw.get("full_description", "")
    if description is None:
        description = ""
    if not isinstance(description, str):
        raise _fail(file, where, f"field 'full_description' must be a string, got {type(description).__name__}")
    bullets = raw.get("small_description", [])
    if isinstance(bullets, str):
        bullets = [bullets]
    elif bullets is None:
        bullets = []
    if not isinstance(bullets, list) or not all(isinstance(b, str) for b in bullets):
        raise _fail(file, where, f"field 'small_description' must be a string or a list of strings, got {bullets!r}")
    pricing, price_tag = _parse_pricing(raw.get("pricing"), file, where)
    options = _parse_options(raw.get("customization_options"), file, where)
    asin = raw["asin"]
    entry = annotations.get(asin)
    attributes = entry.get("attributes") if isinstance(entry, dict) else None
    if attributes is None:
        attributes = [DUMMY_ATTR]
    intern = memo.setdefault
    query = raw["query"].lower().strip()
    return {
        "asin": asin,
        "name": raw["name"],
        "Title": raw["name"],
        "query": intern(query, query),
        "category": intern(raw["category"], raw["category"]),
        "product_category": intern(raw["product_category"], raw["product_category"]),
        "Description": description,
        "BulletPoints": bullets,
        "Attributes": [intern(a, a) for a in attributes],
        "options": {intern(k, k): [intern(v, v) for v in vs] for k, vs in options.items()},
        "Price": price_tag,
        "pricing": pricing,
        "Rating": "N.A.",
        "Reviews": [],
    }


def _check_annotations(annotations: Any, file: str) -> dict[str, Any]:
    if not isinstance(annotations, dict):
        raise CatalogFileError(f"{file}: expected a JSON object keyed by asin, got {type(annotations).__name__}")
    for asin, entry in annotations.items():
        where = f"record {asin!r}"
        if not isinstance(entry, dict):
            raise _fail(file, where, f"an entry must be a JSON object, got {type(entry).__name__}")
        attributes = entry.get("attributes")
        if attributes is not None and (
            not isinstance(attributes, list) or not all(isinstance(a, str) for a in attributes)
        ):
            raise _fail(file, where, f"field 'attributes' must be a list of strings, got {attributes!r}")
        instruction = entry.get("instruction")
        if instruction is not None:
            if not isinstance(instruction, str):
                raise _fail(file, where, f"field 'instruction' must be a string, got {instruction!r}")
            wanted = entry.get("instruction_attributes")
            if not isinstance(wanted, list) or not wanted or not all(isinstance(a, str) for a in wanted):
                raise _fail(
                    file, where, f"field 'instruction_attributes' must be a non-empty list of strings, got {wanted!r}"
                )
    return annotations


def _check_human(human: Any, file: str) -> dict[str, list[dict[str, Any]]]:
    if not isinstance(human, dict):
        raise CatalogFileError(f"{file}: expected a JSON object asin -> list of records, got {type(human).__name__}")
    for asin, records in human.items():
        if not isinstance(records, list):
            raise _fail(
                file, f"record {asin!r}", f"expected a list of instruction records, got {type(records).__name__}"
            )
        for position, record in enumerate(records):
            where = f"record {asin!r}[{position}]"
            if not isinstance(record, dict):
                raise _fail(file, where, f"an instruction record must be a JSON object, got {type(record).__name__}")
            if not isinstance(record.get("instruction"), str):
                raise _fail(file, where, f"field 'instruction' must be a string, got {record.get('instruction')!r}")
            for key in ("instruction_attributes", "instruction_options"):
                value = record.get(key)
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise _fail(file, where, f"field {key!r} must be a list of strings, got {value!r}")
    return human


def _check_nouns(nouns: Any, file: str) -> dict[str, list[str]]:
    if not isinstance(nouns, dict):
        raise CatalogFileError(f"{file}: expected a JSON object asin -> list of nouns, got {type(nouns).__name__}")
    for asin, words in nouns.items():
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise _fail(file, f"record {asin!r}", f"expected a list of strings, got {words!r}")
    return nouns


def catalog_from_raw(
    items: Any,
    annotations: Any,
    human: Any = None,
    nouns: Any = None,
    *,
    num_products: int | None = None,
    key: str,
    names: Mapping[str, str] | None = None,
) -> Catalog:
    """Load raw contents (as parsed from the JSON files) into a :class:`Catalog`.

    ``names`` gives the file names used in error messages (keys as in :data:`RAW_FILES`).

    >>> raw = [{"asin": "B000000001", "name": "Acme Lamp", "full_description": "", "small_description": "Bright",
    ...         "pricing": "$1,299.50 - $1,400", "product_category": "Home › Lamps", "query": " Lamps ",
    ...         "category": "garden", "customization_options": {"Color": [{"value": "Black/White"}]}}]
    >>> p = catalog_from_raw(raw, {}, key="doc").products[0]
    >>> p["query"], p["BulletPoints"], p["pricing"], p["Price"], p["options"], p["Attributes"]
    ('lamps', ['Bright'], [1299.5, 1400.0], '$1299.5 to $1400.0', {'color': ['black | white']}, ['DUMMY_ATTR'])
    """
    names = {**RAW_FILES, **(names or {})}
    if not isinstance(items, list):
        raise CatalogFileError(f"{names['items']}: expected a JSON list of products, got {type(items).__name__}")
    annotations = _check_annotations(annotations, names["attributes"])
    human = _check_human(human if human is not None else {}, names["human"])
    if nouns is not None:
        nouns = _check_nouns(nouns, names["nouns"])
    if num_products is not None:
        items = items[:num_products]
    seen: set[str] = set()
    products = []
    memo: dict[str, str] = {}
    for index, raw in enumerate(items):
        asin = raw.get("asin") if isinstance(raw, dict) else None
        if isinstance(asin, str) and (asin == "nan" or len(asin) > 10 or asin in seen):
            continue
        product = _load_product(raw, index, names["items"], annotations, memo)
        seen.add(asin)  # type: ignore[arg-type]
        products.append(product)
    synthetic = {}
    for product in products:
        entry = annotations.get(product["asin"])
        if isinstance(entry, dict) and entry.get("instruction") is not None:
            synthetic[product["asin"]] = (entry["instruction"], list(entry["instruction_attributes"]))
    kept_human = {p["asin"]: human[p["asin"]] for p in products if p["asin"] in human}
    kept_nouns = None if nouns is None else {p["asin"]: nouns.get(p["asin"], []) for p in products}
    return Catalog(key, products, synthetic, kept_human, kept_nouns)


def _read_json(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except json.JSONDecodeError as error:
        raise CatalogFileError(f"{path}: not valid JSON ({error})") from None
    except FileNotFoundError:
        raise CatalogFileError(f"{path}: file not found") from None


def load_raw_catalog(
    items_path: str | os.PathLike[str],
    attributes_path: str | os.PathLike[str],
    human_path: str | os.PathLike[str] | None = None,
    nouns_path: str | os.PathLike[str] | None = None,
    *,
    num_products: int | None = None,
    key: str | None = None,
) -> Catalog:
    """Load raw WebShop files (real or generated) into a :class:`Catalog`; see the module docstring.

    ``key`` defaults to one made of the items file's path, size and modification time.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     folder = write_raw(Path(folder) / "shop", *generate_raw(25, seed=0))
    ...     catalog = load_raw_catalog(folder / "items_shuffle.json", folder / "items_ins_v2.json", num_products=10)
    >>> len(catalog), catalog.title_nouns, list(catalog.products[0])[:3]
    (10, None, ['asin', 'name', 'Title'])
    """
    paths = {"items": Path(items_path), "attributes": Path(attributes_path)}
    if human_path is not None:
        paths["human"] = Path(human_path)
    if nouns_path is not None:
        paths["nouns"] = Path(nouns_path)
    contents = {name: _read_json(path) for name, path in paths.items()}
    if key is None:
        stat = paths["items"].stat()
        key = f"files-{paths['items'].resolve()}-{stat.st_size}-{stat.st_mtime_ns}-{num_products}"
    return catalog_from_raw(
        contents["items"],
        contents["attributes"],
        contents.get("human"),
        contents.get("nouns"),
        num_products=num_products,
        key=key,
        names={name: str(path) for name, path in paths.items()},
    )


# ---------------------------------------------------------------------------------------------
# Caches
# ---------------------------------------------------------------------------------------------


def webshop_home() -> Path:
    """``$SPA_GYM_HOME/webshop`` (default ``~/.cache/spa_gym/webshop``): where catalogs and indexes are cached."""
    root = os.environ.get("SPA_GYM_HOME")
    return (Path(root) if root else Path.home() / ".cache" / "spa_gym") / "webshop"


def resolve_size(num_products: int | str) -> int:
    """A product count from an int or a name of :data:`SIZES`.

    >>> resolve_size("small"), resolve_size(250)
    (1000, 250)
    """
    if isinstance(num_products, str):
        if num_products not in SIZES:
            raise ValueError(f"unknown catalog size {num_products!r}; expected an int or one of {sorted(SIZES)}")
        return SIZES[num_products]
    if isinstance(num_products, bool) or not isinstance(num_products, int) or num_products < 1:
        raise ValueError(f"num_products must be a positive int or one of {sorted(SIZES)}, got {num_products!r}")
    return num_products


def write_raw(
    directory: str | os.PathLike[str],
    items: list[dict[str, Any]],
    annotations: dict[str, Any],
    human: dict[str, Any],
    nouns: dict[str, list[str]],
    catalog: Catalog | None = None,
) -> Path:
    """Write the four raw files (and, given ``catalog``, its processed form ``catalog.pickle``) into
    ``directory`` atomically: into a temporary sibling folder, then renamed. If ``directory`` already
    exists (another process won the race) it is left as it is.
    """
    target = Path(directory)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f"{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex}")
    staging.mkdir()
    try:
        for name, content in (("items", items), ("attributes", annotations), ("human", human), ("nouns", nouns)):
            with open(staging / RAW_FILES[name], "w", encoding="utf-8") as handle:
                json.dump(content, handle, ensure_ascii=False)
        if catalog is not None:
            with open(staging / PROCESSED_FILE, "wb") as handle:
                pickle.dump(catalog, handle, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            os.rename(staging, target)
        except OSError:
            if not (target / RAW_FILES["nouns"]).exists():
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


_CACHE: dict[tuple[Any, ...], Catalog] = {}
_LOCK = threading.Lock()


def generated_catalog(
    num_products: int | str = "small", seed: int = DEFAULT_CATALOG_SEED, home: str | os.PathLike[str] | None = None
) -> Catalog:
    """The generated catalog of that size and seed, from the first of: this process's cache, the
    processed form on disk (``<home>/catalog-v<version>-n<size>-s<seed>/catalog.pickle``), the raw
    files there; else generated and written there (``home`` defaults to :func:`webshop_home`).

    Every call with the same arguments returns the same object. If the folder cannot be written, the
    catalog is kept in memory only (with a warning).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as home:
    ...     catalog = generated_catalog(40, seed=2, home=home)
    ...     files = sorted(p.name for p in (Path(home) / "catalog-v1-n40-s2").iterdir())
    >>> catalog is generated_catalog(40, seed=2, home=home), len(catalog), files[0]
    (True, 40, 'catalog.pickle')
    """
    size = resolve_size(num_products)
    folder = Path(home) if home is not None else webshop_home()
    name = f"catalog-v{GENERATOR_VERSION}-n{size}-s{seed}"
    cache_key = ("generated", str(folder.resolve()), size, seed)
    with _LOCK:
        if cache_key not in _CACHE:
            with _gc_paused():
                _CACHE[cache_key] = _generated(folder / name, size, seed)
        return _CACHE[cache_key]


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small objects (it would rescan them all)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _CatalogUnpickler(pickle.Unpickler):
    """Reads ``catalog.pickle`` as data: the one class it may name is :class:`Catalog`, whose state is
    builtins only, so a pickle planted in the cache cannot call anything."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == (Catalog.__module__, Catalog.__name__):
            return Catalog
        raise pickle.UnpicklingError(f"it names {module}.{name}, which a catalog never holds")


def _read_processed(path: Path) -> Catalog | None:
    """The cached catalog, or ``None`` (with a warning) if the file is not one."""
    try:
        with open(path, "rb") as handle:
            catalog = _CatalogUnpickler(handle).load()
        if isinstance(catalog, Catalog):
            return catalog
        reason = f"it holds a {type(catalog).__name__}"
    except Exception as error:  # truncated, garbage or hostile: any failure means "rebuild"
        reason = str(error) or type(error).__name__
    warnings.warn(f"the WebShop catalog cache {path} is unreadable ({reason}); it is rebuilt", stacklevel=2)
    return None


def _generated(directory: Path, size: int, seed: int) -> Catalog:
    if (directory / PROCESSED_FILE).exists():
        catalog = _read_processed(directory / PROCESSED_FILE)
        if catalog is not None:
            return catalog
    elif (directory / RAW_FILES["nouns"]).exists():
        try:
            return load_raw_catalog(*(directory / RAW_FILES[n] for n in RAW_FILES), key=directory.name)
        except CatalogFileError as error:
            warnings.warn(f"the WebShop catalog cache {directory} is unreadable ({error}); it is rebuilt",
                          stacklevel=2)
    raw = generate_raw(size, seed)
    catalog = catalog_from_raw(*raw, key=directory.name)
    try:
        if directory.exists():  # a broken cache: replaced as a whole
            shutil.rmtree(directory)
        write_raw(directory, *raw, catalog=catalog)
    except OSError as error:
        warnings.warn(f"cannot cache the WebShop catalog in {directory} ({error}); it is kept in memory only",
                      stacklevel=2)
    return catalog


def find_raw_files(data_dir: str | os.PathLike[str], num_products: int | None) -> dict[str, Path | None]:
    """The real files in ``data_dir`` as WebShop picks them: the ``_1000`` files for ``num_products <= 1000``
    when present, else the full ones; ``items_human_ins.json`` optional."""
    folder = Path(data_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"WebShop data_dir {folder} is not a directory")
    small = num_products is not None and num_products <= 1000
    found: dict[str, Path | None] = {}
    for name, stem in (("items", "items_shuffle"), ("attributes", "items_ins_v2")):
        candidates = [folder / f"{stem}_1000.json", folder / f"{stem}.json"]
        if not small:
            candidates.reverse()
        path = next((c for c in candidates if c.is_file()), None)
        if path is None:
            raise FileNotFoundError(f"no {stem}.json or {stem}_1000.json in {folder} (WebShop's data files)")
        found[name] = path
    human = folder / "items_human_ins.json"
    found["human"] = human if human.is_file() else None
    nouns = folder / RAW_FILES["nouns"]
    found["nouns"] = nouns if nouns.is_file() else None
    return found


def real_catalog(data_dir: str | os.PathLike[str], num_products: int | None = None) -> Catalog:
    """The catalog of real (or previously generated) files in ``data_dir``, shared within the process."""
    files = find_raw_files(data_dir, num_products)
    stamp = tuple((str(p.resolve()), p.stat().st_mtime_ns) for p in files.values() if p is not None)
    cache_key = ("files", stamp, num_products)
    with _LOCK:
        if cache_key not in _CACHE:
            digest = hashlib.sha1(repr(stamp).encode()).hexdigest()[:12]
            with _gc_paused():
                _CACHE[cache_key] = load_raw_catalog(
                    files["items"], files["attributes"], files["human"], files["nouns"],  # type: ignore[arg-type]
                    num_products=num_products, key=f"files-{digest}-n{num_products}",
                )  # fmt: skip
        return _CACHE[cache_key]


def iter_option_values() -> Iterable[tuple[str, str]]:
    """Every ``(option name, value)`` the generator can write, as the loader outputs them."""
    for name, values in OPTION_KINDS.values():
        for value in values:
            yield name.lower(), _loaded_value(value)
