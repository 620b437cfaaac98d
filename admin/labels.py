"""Vietnamese names of the tables and fields, as officers see them in the admin."""

from __future__ import annotations

TABLES = {
    "places": "Địa điểm",
    "events": "Sự kiện",
    "faqs": "Thông tin thiết thực",
}

FIELDS = {
    "slug": "Mã (không dấu)",
    "kind": "Nhóm",
    "category": "Loại",
    "district": "Quận/huyện",
    "name_vi": "Tên tiếng Việt",
    "name_en": "Tên tiếng Anh",
    "aliases": "Tên gọi khác (mỗi dòng một tên)",
    "address_vi": "Địa chỉ (tiếng Việt)",
    "address_en": "Địa chỉ (tiếng Anh)",
    "lat": "Vĩ độ (lat)",
    "lon": "Kinh độ (lon)",
    "hours_vi": "Giờ mở cửa (tiếng Việt)",
    "hours_en": "Giờ mở cửa (tiếng Anh)",
    "price_vi": "Giá vé (tiếng Việt)",
    "price_en": "Giá vé (tiếng Anh)",
    "free": "Miễn phí",
    "phone": "Điện thoại",
    "website": "Trang web",
    "summary_vi": "Tóm tắt (tiếng Việt)",
    "summary_en": "Tóm tắt (tiếng Anh)",
    "description_vi": "Mô tả (tiếng Việt)",
    "description_en": "Mô tả (tiếng Anh)",
    "how_to_get_vi": "Cách đi (tiếng Việt)",
    "how_to_get_en": "Cách đi (tiếng Anh)",
    "tags": "Chủ đề gợi ý (mỗi dòng một chủ đề)",
    "venue_slug": "Địa điểm tổ chức (mã)",
    "venue_vi": "Nơi tổ chức (tiếng Việt)",
    "venue_en": "Nơi tổ chức (tiếng Anh)",
    "recurrence": "Quy tắc lặp (RFC 5545)",
    "recurrence_start": "Lặp từ ngày",
    "recurrence_end": "Lặp đến ngày",
    "start_time": "Giờ bắt đầu",
    "end_time": "Giờ kết thúc",
    "typical_vi": "Thời gian thường lệ (tiếng Việt)",
    "typical_en": "Thời gian thường lệ (tiếng Anh)",
    "dates": "Các ngày diễn ra (mỗi dòng: YYYY-MM-DD hoặc YYYY-MM-DD..YYYY-MM-DD)",
    "topic": "Chủ đề",
    "title_vi": "Tiêu đề tiếng Việt",
    "title_en": "Tiêu đề tiếng Anh",
    "keywords": "Từ khóa (mỗi dòng một từ)",
    "answer_vi": "Câu trả lời (tiếng Việt)",
    "answer_en": "Câu trả lời (tiếng Anh)",
    "source": "Nguồn",
    "verified": "Đã kiểm chứng",
    "retired": "Ngừng sử dụng",
    "verified_by": "Người kiểm chứng",
    "verified_at": "Ngày kiểm chứng",
    "version": "Phiên bản",
    "updated_at": "Sửa lần cuối",
    "created_at": "Tạo lúc",
}

KINDS = {"attraction": "Điểm tham quan", "service": "Dịch vụ"}

ACTIONS = {
    "seed": "Dữ liệu ban đầu",
    "create": "Tạo mới",
    "update": "Sửa",
    "retire": "Ngừng sử dụng",
    "unretire": "Dùng lại",
    "verify": "Kiểm chứng",
    "restore": "Khôi phục",
    "import": "Nhập từ bảng tính",
}

ROLES = {"editor": "Biên tập viên", "admin": "Quản trị viên"}


def field_label(name: str) -> str:
    return FIELDS.get(name, name)
